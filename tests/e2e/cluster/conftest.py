"""The cluster tier's shape, started once for the package: PostgreSQL, Redis, two supervised
Torget nodes and nginx (``tests.support.cluster``), and a session published to node 2 for the
whole run (the "other session" whose HLS must keep playing through every fault)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio

from tests.e2e.media.test_hls import FFMPEG, publisher
from tests.support import cluster as shape
from tests.support import servers
from tests.support.traffic import Probe
from tests.support.waiting import until

#: The marks of every test of the tier (with a timeout of its own per module).
TIER = [
    pytest.mark.cluster,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.asyncio(loop_scope="package"),
]


@dataclass
class Steady:
    """A session published to one node for the whole run."""

    session_id: str
    owner: shape.Node

    @property
    def playlist(self) -> str:
        return f"/hls/{self.session_id}/source.m3u8"


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[shape.Cluster]:
    """The shipped shape on loopback ports (skips when a part of it is not installed)."""
    missing = [
        name
        for name, present in (
            ("nginx", shape.nginx_installed()),
            ("redis-server", servers.redis_installed()),
            ("PostgreSQL", servers.postgres_bin_dir() is not None),
            ("ffmpeg", FFMPEG is not None),
        )
        if not present
    ]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (make deps-system)")
    started = await shape.start_cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield started
    finally:
        await started.stop()


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def steady(cluster: shape.Cluster) -> AsyncIterator[Steady]:
    """A session published over RTMP to node 2, playing through nginx."""
    session_id, key = await cluster.new_session("Steady")
    owner = cluster.nodes[1]
    async with publisher(owner.rtmp(key), size="640x360", gop=30):
        published = Steady(session_id, owner)
        await until_playing(cluster.url + published.playlist)
        yield published


async def until_playing(url: str, seconds: float = 40.0) -> float:
    """Wait until ``url`` answers 200; return how long that took."""
    started = time.monotonic()

    async def playing() -> bool:
        try:
            async with http.get(url) as answer:
                return answer.status == 200
        except aiohttp.ClientError:
            return False

    async with aiohttp.ClientSession() as http:
        await until(playing, timeout=seconds, what=f"{url} to play", interval=0.1)
    return time.monotonic() - started


def steady_probes(steady: Steady) -> list[Probe]:
    """What must keep working through nginx whatever one node, Redis or the store does (the
    HLS probe gets past nginx's cache to a node every time)."""
    return [
        Probe("programme", "/api/v1/program"),
        Probe("static", "/static/app.css"),
        Probe("websocket", "/ws", websocket=True),
        Probe("other session's HLS", steady.playlist + "?probe={n}"),
    ]
