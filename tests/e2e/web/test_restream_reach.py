"""Restream destinations reach public addresses only, checked when added and before each push,
over real HTTP and real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from streaming.restream.urls import Reach
from tests.e2e.media.test_restream import (
    KEY,
    go_live_and_push,
    receiver,
    restreams_path,
    session_in,
    status_of,
)
from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.media_stage import new_session, publisher, stage
from tests.support.media_tools import needs_ffmpeg
from tests.support.servers import free_port
from tests.support.waiting import until
from web.keys import RESTREAMER

ALLOW_IT = "an administrator can allow the host in [media] restream_allowed_hosts"
INTERNAL = {
    "rtmp://127.0.0.1:1940/live/k": "127.0.0.1 is loopback",
    "rtmp://localhost:1936/live/k": "127.0.0.1 is loopback",  # a name resolving to loopback
    "rtmp://169.254.169.254/live/k": "169.254.169.254 is link-local",
    "rtmp://10.0.0.7:1935/live/k": "10.0.0.7 is private",
    "rtmps://192.168.1.20:443/app/k": "192.168.1.20 is private",
    "rtmp://100.64.0.1/live/k": "100.64.0.1 is not public",
    "rtmp://0.0.0.0/live/k": "0.0.0.0 is unspecified",
    "rtmp://[::1]/live/k": "::1 is loopback",
    "rtmp://[::ffff:127.0.0.1]/live/k": "::ffff:127.0.0.1 is loopback",
    "rtmp://[fe80::1]/live/k": "fe80::1 is link-local",
}


@contextlib.asynccontextmanager
async def app_with(tmp_path: Path, **env: str) -> AsyncIterator[tuple[RunningApp, str]]:
    """A running app (no RTMP listener) with ``env`` and one session."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_MEDIA_ENABLED="false", **env)
    async with running_app(settings) as app:
        answer = await app.client.post("/api/v1/studios", json={"name": "Hall"}, headers=app.admin)
        yield app, await session_in(app, (await answer.json())["id"])


async def _add(app: RunningApp, session: str, url: str) -> Any:
    body = {"name": "Somewhere", "url": url}
    return await app.client.post(restreams_path(session), json=body, headers=app.admin)


async def test_internal_destinations_are_refused_by_default(tmp_path: Path) -> None:
    """Loopback, link-local, private and other non-public addresses get 422 naming url."""
    async with app_with(tmp_path, TORGET_MEDIA_RESTREAM_ALLOWED_HOSTS="") as (app, session):
        for url, why in INTERNAL.items():
            answer = await _add(app, session, url)
            assert answer.status == 422, url
            assert (await answer.json())["error"] == {
                "code": "invalid_input",
                "field": "url",
                "message": f"url: must not point at an internal address ({why}); {ALLOW_IT}",
            }
        listed = await app.client.get(restreams_path(session), headers=app.admin)
        assert await listed.json() == []
        # A public address, or a name that does not resolve (yet), is taken.
        for url in ("rtmp://8.8.8.8/live/k", "rtmp://no-such-host.invalid/live/k"):
            assert (await _add(app, session, url)).status == 201, url


async def test_allowed_hosts_names_addresses_and_ranges(tmp_path: Path) -> None:
    """Hosts listed in the setting may be internal: by name, by address or by range."""
    allowed = "localhost,10.20.0.0/16,::1"
    async with app_with(tmp_path, TORGET_MEDIA_RESTREAM_ALLOWED_HOSTS=allowed) as (app, session):
        for url in ("rtmp://localhost:9/live/a", "rtmp://10.20.3.4/live/b", "rtmp://[::1]:9/c/d"):
            assert (await _add(app, session, url)).status == 201, url
        refused = await _add(app, session, "rtmp://127.0.0.1:9/live/e")  # not by its address
        assert refused.status == 422
        assert (await _add(app, session, "rtmp://10.21.0.1/live/f")).status == 422


async def test_this_nodes_own_ingest_is_refused_unless_allowed(tmp_path: Path) -> None:
    """A push into the node's own RTMP ingest (where it listens, or the address operators are
    shown) is refused; listing its host allows it (a relay into another session)."""
    env = {
        "TORGET_MEDIA_RESTREAM_ALLOWED_HOSTS": "",
        "TORGET_MEDIA_RTMP_PORT": "19350",
        "TORGET_SERVER_RTMP_URL": "rtmp://localhost:19351/live",
    }
    async with app_with(tmp_path, **env) as (app, session):
        for url in ("rtmp://127.0.0.1:19350/live/k", "rtmp://localhost:19351/live/k"):
            answer = await _add(app, session, url)
            assert answer.status == 422, url
            assert (await answer.json())["error"]["message"] == (
                "url: must not point at this server's own RTMP ingest"
            )
    env["TORGET_MEDIA_RESTREAM_ALLOWED_HOSTS"] = "127.0.0.1"
    async with app_with(tmp_path / "allowed", **env) as (app, session):
        for url in ("rtmp://127.0.0.1:19350/live/k", "rtmp://localhost:19351/live/k"):
            assert (await _add(app, session, url)).status == 201, url


@pytest.mark.slow
@needs_ffmpeg
async def test_a_push_is_checked_again_when_it_starts(tmp_path: Path) -> None:
    """A destination that was allowed when added but is refused when its push starts (the name
    now resolves to an internal address) is never connected to; its status says why."""
    connections: list[str] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(str(writer.get_extra_info("peername")))
        writer.close()

    port = free_port()
    server = await asyncio.start_server(accept, "127.0.0.1", port)
    async with server, stage(tmp_path, ladder=[]) as st:
        session_id, stream_key = await new_session(st, "Checked", 9)
        answer = await _add(st.app, session_id, f"rtmp://localhost:{port}/live/{KEY}")
        assert answer.status == 201  # localhost resolves to 127.0.0.1, allowed by the harness
        destination = (await answer.json())["id"]
        restreamer = st.app.web_app[RESTREAMER]
        restreamer.config = dataclasses.replace(restreamer.config, reach=Reach())
        async with publisher(st.rtmp(stream_key), size="320x180"):
            live = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/live", headers=st.app.admin
            )
            assert live.status == 200

            async def refused() -> bool:
                status = await status_of(st, session_id, destination)
                return status["last_error"] is not None

            await until(refused, timeout=30, what="the push to be refused")
            status = await status_of(st, session_id, destination)
            assert status["last_error"] == (
                "not pushed: the URL must not point at an internal address "
                f"(127.0.0.1 is loopback); {ALLOW_IT}"
            )
            assert status["state"] in ("retrying", "failed")
            assert status["bytes_sent"] == 0
        assert connections == []


@pytest.mark.slow
@needs_ffmpeg
async def test_a_plain_rtmp_push_connects_to_the_checked_address(tmp_path: Path) -> None:
    """A push to a name goes to the address it was checked at (the receiver on 127.0.0.1 gets
    the media), announcing the destination's own tcUrl."""
    port = free_port()
    out = tmp_path / "received.flv"
    async with stage(tmp_path, ladder=[]) as st:
        session_id, stream_key = await new_session(st, "Pinned", 9)
        answer = await _add(st.app, session_id, f"rtmp://localhost:{port}/live/{KEY}")
        assert answer.status == 201
        destination = (await answer.json())["id"]
        async with receiver(out, port), publisher(st.rtmp(stream_key), size="320x180"):
            await go_live_and_push(st, session_id, destination, 50_000)
            tap = st.app.web_app[RESTREAMER].tap(session_id)
            assert tap is not None
            pid = tap.pushers[destination].pid
            assert pid is not None
            cmdline = await asyncio.to_thread(Path(f"/proc/{pid}/cmdline").read_bytes)
            args = cmdline.split(b"\0")
            assert args[-2:] == [b"rtmp://127.0.0.1:%d/live/%s" % (port, KEY.encode()), b""]
            assert args[args.index(b"-rtmp_tcurl") + 1] == b"rtmp://localhost:%d/live" % port
