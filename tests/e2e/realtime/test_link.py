"""The websocket after its handshake (realtime/link.py) over real sockets."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import uvloop

from studio.models import Session
from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.realtime_client import RawClient, WsClient
from tests.support.rooms import make_session
from tests.support.waiting import until
from web.keys import ACTIONS, HUB

Scenario = Callable[[RunningApp], Awaitable[None]]
LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def on_each_loop(scenario: Scenario) -> Callable[..., None]:
    """Run ``scenario`` against a fresh Torget on asyncio's loop and on uvloop (which
    `torget serve` uses): the link works on both transports."""

    @pytest.mark.parametrize("loop", sorted(LOOPS))
    def test(loop: str, tmp_path: Path) -> None:
        async def run() -> None:
            async with running_app(settings_for(sqlite_url(tmp_path))) as app:
                await scenario(app)

        with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
            runner.run(run())

    test.__name__, test.__doc__ = scenario.__name__, scenario.__doc__
    return test


def port(app: RunningApp) -> int:
    """The port the app listens on."""
    assert app.client.port is not None
    return app.client.port


async def frames_until_end(client: RawClient) -> list[tuple[int, bytes]]:
    """Every frame the server sends until it closes the connection."""
    async with asyncio.timeout(10):
        return [frame async for frame in client.frames()]


async def next_frame(client: RawClient) -> tuple[int, bytes]:
    """The next frame from the server."""
    async with asyncio.timeout(5):
        return await anext(client.frames())


def close_code(frames: list[tuple[int, bytes]]) -> tuple[int, str]:
    """The code and reason of the close frame among ``frames``."""
    payload = next(p for opcode, p in frames if opcode == 0x8)
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode()


@on_each_loop
async def test_idle_clients_keep_no_aiohttp_request_alive(app: RunningApp) -> None:
    """Once upgraded, a websocket no longer holds an aiohttp connection handler (its memory)."""
    runner = app.client.server.runner
    assert runner is not None
    server = runner.server
    assert server is not None
    before = len(server.connections)
    clients = [WsClient(await app.client.ws_connect("/ws")) for _ in range(10)]
    for client in clients:
        assert (await client.next())["type"] == "welcome"
    await until(  # aiohttp lets go of each within a loop turn or two
        lambda: len(server.connections) == before,
        timeout=2,
        what="aiohttp to let go of the upgraded connections",
        interval=0.01,
    )
    assert len(server.connections) == before
    for client in clients:
        assert (await client.request("p", type="ping"))["type"] == "pong"
        await client.ws.close()


@on_each_loop
async def test_a_frame_sent_right_after_the_handshake_is_answered(app: RunningApp) -> None:
    """A client that speaks before the welcome arrived loses nothing: welcome, then its pong."""
    client = await RawClient.open(port(app))
    client.send(type="ping", ref="early")
    first = json.loads((await next_frame(client))[1])
    second = json.loads((await next_frame(client))[1])
    assert [first["type"], second["type"], second["ref"]] == ["welcome", "pong", "early"]
    client.close()


@on_each_loop
async def test_pings_are_answered_and_binary_frames_refused(app: RunningApp) -> None:
    """A websocket ping gets a pong with its payload; a binary frame gets an error frame."""
    client = await RawClient.open(port(app))
    await next_frame(client)  # welcome
    client.send_frame(0x9, b"are you there")
    assert await next_frame(client) == (0xA, b"are you there")
    client.send_frame(0x2, b"\x00\x01")
    opcode, payload = await next_frame(client)
    assert opcode == 0x1
    assert json.loads(payload)["message"] == "send JSON text frames"
    client.close()


@on_each_loop
async def test_a_client_close_is_answered_and_the_socket_ends(app: RunningApp) -> None:
    """The closing handshake: the server echoes the client's code and closes the socket."""
    client = await RawClient.open(port(app))
    await next_frame(client)
    client.send_frame(0x8, struct.pack("!H", 1000) + b"bye")
    assert close_code(await frames_until_end(client))[0] == 1000
    client.close()


async def broken_frame_closes(app: RunningApp, frame: bytes, code: int, reason: str) -> None:
    """Send ``frame`` after the welcome; the server must close with ``code`` and ``reason``."""
    client = await RawClient.open(port(app))
    await next_frame(client)
    client.writer.write(frame)
    assert close_code(await frames_until_end(client)) == (code, reason)
    client.close()


@on_each_loop
async def test_an_unmasked_frame_closes_with_a_protocol_error(app: RunningApp) -> None:
    """A client frame without a mask is answered with 1002 and the reason."""
    await broken_frame_closes(app, b"\x81\x02hi", 1002, "client frames must be masked")


@on_each_loop
async def test_a_message_over_64_kib_closes_with_too_big(app: RunningApp) -> None:
    """A message announced over the 64 KiB limit is answered with 1009 before it is read."""
    header = struct.pack("!BBQ", 0x81, 0x80 | 127, 70_000) + b"\x00" * 4
    await broken_frame_closes(app, header, 1009, "messages may be at most 65536 bytes")


@on_each_loop
async def test_a_plain_http_request_gets_a_json_error(app: RunningApp) -> None:
    """GET /ws without the upgrade headers is answered 400 in JSON, and the server goes on."""
    answer = await app.client.get("/ws")
    assert answer.status == 400
    assert (await answer.json())["error"]["message"] == (
        "this address takes websocket connections only (Upgrade: websocket)"
    )
    assert (await app.client.get("/healthz")).status == 200


@on_each_loop
async def test_a_client_gone_during_its_join_leaves_no_member_behind(app: RunningApp) -> None:
    """A client that hangs up while its join is being handled is not left in the room."""
    room = await make_session(app)
    store = app.web_app[ACTIONS].programme.store
    real_get_session = store.get_session

    joining, gone, looked_up = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def held_get_session(session_id: str) -> Session:
        joining.set()
        await gone.wait()  # the join is still under way when the client is gone
        try:
            return await real_get_session(session_id)
        finally:
            looked_up.set()

    store.get_session = held_get_session  # type: ignore[method-assign]
    hub = app.web_app[HUB]
    client = await RawClient.open(port(app))
    client.send(type="join", room=room, ref="j")
    async with asyncio.timeout(5):
        await joining.wait()
    [conn] = hub.connections
    client.writer.transport.abort()
    await until(conn.link.is_closing, timeout=5, what="the server to see the client go")
    gone.set()
    async with asyncio.timeout(5):
        await looked_up.wait()
    await until(  # the client's frame handler has finished the join
        lambda: not any("Client._work" in repr(t.get_coro()) for t in asyncio.all_tasks()),
        timeout=5,
        what="the client's frame handler to finish the join",
        interval=0.01,
    )
    assert not hub.connections
    assert room not in hub.rooms


def is_open(fd: int) -> bool:
    """Whether ``fd`` is an open file descriptor of this process."""
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


async def test_out_of_open_files_refuses_one_client_and_the_node_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """When the socket cannot be copied (no open file left), that client is cut off with a
    warning that names the limit, and the next client is served once files are free."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    async with running_app(settings_for(sqlite_url(tmp_path))) as app:
        squeezed = await RawClient.open(port(app))  # warm up: every lazy file is open now
        await next_frame(squeezed)  # welcome: the node has taken the connection over
        squeezed.close()
        hub = app.web_app[HUB]
        await until(lambda: not hub.connections, timeout=5, what="the node to let go of it")
        listed = [int(fd) for fd in os.listdir("/proc/self/fd")]  # (listing took one itself)
        used = {fd for fd in listed if is_open(fd)}
        free = [fd for fd in range(soft) if fd not in used][:2]
        # the client's socket and the server's accepted one fit; the copy does not
        resource.setrlimit(resource.RLIMIT_NOFILE, (free[-1] + 1, hard))
        try:
            client = await RawClient.open(port(app))
            assert await frames_until_end(client) == []
            client.close()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        assert "raise the open-file limit" in caplog.text
        healthy = WsClient(await app.client.ws_connect("/ws"))
        assert (await healthy.next())["type"] == "welcome"
        await healthy.ws.close()
