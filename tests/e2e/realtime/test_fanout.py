"""The hub's fan-out over real websockets: slow clients, joins mid-stream, the shared heartbeat."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import realtime.hub as hub_module
from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.realtime_client import RawClient, WsClient
from tests.support.rooms import Connect, make_session
from tests.support.waiting import until
from web.keys import HUB

FAST_LIMITS = {
    "TORGET_REALTIME_TICK_MS": "20",
    "TORGET_REALTIME_RATE_LIMIT_PER_SECOND": "100000",
    "TORGET_REALTIME_RATE_LIMIT_BURST": "100000",
    "TORGET_REALTIME_SEND_BUFFER_BYTES": "4096",
}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningApp]:
    """A running Torget without practical rate limits and a 4 KiB per-client send buffer."""
    settings = settings_for(sqlite_url(tmp_path), **FAST_LIMITS)
    async with running_app(settings) as running:
        yield running


async def test_a_client_that_cannot_keep_up_is_dropped_and_others_get_everything(
    app: RunningApp, connect: Connect
) -> None:
    """A viewer that stops reading is closed with 1013 once its backlog passes the limit,
    while a reading viewer gets every message, in order."""
    room = await make_session(app)
    assert app.client.port is not None
    slow = await RawClient.open(app.client.port)
    slow.send(type="join", room=room, ref="j")
    sender, reader = await connect(), await connect()
    await sender.request("j", type="join", room=room)
    await reader.request("j", type="join", room=room)
    hub = app.web_app[HUB]
    readers = {sender.welcome["viewer_id"], reader.welcome["viewer_id"]}
    (slow_conn,) = [c for c in hub.connections if c.viewer_id not in readers]
    # a bad link: the kernel holds little for this client, so the backlog reaches the server
    slow_conn.link.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    texts = [f"{i:04d} " + "x" * 490 for i in range(600)]
    for index, text in enumerate(texts):
        await sender.send(type="chat.send", room=room, text=text, ref=f"m{index}")
    got: list[str] = []
    async with asyncio.timeout(60):
        while len(got) < len(texts):
            frame = await reader.next(timeout=30)
            if frame["type"] == "events":
                got += [e["text"] for e in frame["events"] if e["type"] == "chat.message"]
    assert got == texts
    assert slow_conn.dropped
    assert not [c for c in hub.connections if c.viewer_id in readers and c.dropped]
    closes = [payload for opcode, payload in [f async for f in slow.frames()] if opcode == 0x8]
    slow.close()
    assert closes
    assert struct.unpack("!H", closes[0][:2])[0] == 1013


async def test_joining_mid_stream_gives_no_gap_and_no_duplicate(
    app: RunningApp, connect: Connect
) -> None:
    """Viewers joining while chat flows see each message exactly once: in their history or
    live, never both, none missing."""
    room = await make_session(app)
    sender = await connect()
    await sender.request("j", type="join", room=room)

    async def send_all() -> None:
        for index in range(150):
            await sender.send(type="chat.send", room=room, text=f"m{index:03d}", ref=str(index))
            await asyncio.sleep(0.002)

    sending = asyncio.create_task(send_all())
    joiners: list[tuple[WsClient, dict[str, Any]]] = []
    for _ in range(6):
        await asyncio.sleep(0.03)
        client = await connect()
        joiners.append((client, await client.request("j", type="join", room=room)))
    await sending
    wanted = [f"m{index:03d}" for index in range(150)]
    for client, joined in joiners:
        seen = [e["text"] for e in joined["events"] if e["type"] == "chat.message"]
        live: list[str] = []
        async with asyncio.timeout(20):
            while not live or live[-1] != wanted[-1]:
                frame = await client.next(timeout=10)
                if frame["type"] == "events":
                    live += [e["text"] for e in frame["events"] if e["type"] == "chat.message"]
        assert seen + live == wanted


async def test_a_client_that_never_answers_pings_is_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared heartbeat closes a connection silent for two ping rounds and keeps one
    that answers."""
    monkeypatch.setattr(hub_module, "PING_EVERY_S", 0.2)
    settings = settings_for(sqlite_url(tmp_path), **FAST_LIMITS)
    async with running_app(settings) as app:
        assert app.client.port is not None
        mute = await RawClient.open(app.client.port)
        answering = await RawClient.open(app.client.port)
        ponged = asyncio.Event()
        answered: list[bytes] = []

        async def answer_pings() -> None:
            async for opcode, payload in answering.frames():
                if opcode == 0x9:
                    answering.send_frame(0xA, payload)
                    answered.append(payload)
                elif opcode == 0x1 and b'"pong"' in payload:
                    ponged.set()

        answerer = asyncio.create_task(answer_pings())
        pings = 0
        async with asyncio.timeout(10):
            async for opcode, _ in mute.frames():  # read, never answer
                pings += opcode == 0x9
        mute.close()
        assert pings >= 1
        rounds = len(answered)
        await until(  # more rounds: the answering client stays
            lambda: len(answered) >= rounds + 2, timeout=5, what="two more ping rounds"
        )
        answering.send(type="ping", ref="p")
        async with asyncio.timeout(5):
            await ponged.wait()
        answerer.cancel()
        answering.close()


async def test_a_room_of_many_gets_every_message_in_order_from_both_writer_threads(
    app: RunningApp, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more members than ``PARALLEL_FROM``, a sweep's writes are split between the event
    loop and the writer thread; every member still gets every message once, in order."""
    monkeypatch.setattr(hub_module, "PARALLEL_FROM", 8)
    room = await make_session(app)
    viewers = [await connect() for _ in range(90)]  # the test client's pool holds 100
    for viewer in viewers:
        await viewer.request("j", type="join", room=room)
    sender = await connect()
    await sender.request("j", type="join", room=room)
    texts = [f"message {i}" for i in range(40)]
    for index, text in enumerate(texts):
        await sender.send(type="chat.send", room=room, text=text, ref=f"m{index}")
    for viewer in viewers:
        got: list[str] = []
        async with asyncio.timeout(30):
            while len(got) < len(texts):
                frame = await viewer.next(timeout=20)
                if frame["type"] == "events":
                    got += [e["text"] for e in frame["events"] if e["type"] == "chat.message"]
        assert got == texts
