"""The cluster tier's shape, started once for the package: PostgreSQL, Redis, two supervised
Torget nodes and nginx (``tests.support.cluster``), and a session published to node 2 for the
whole run (the "other session" whose HLS must keep playing through every fault)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.support import cluster as shape
from tests.support import servers
from tests.support.cluster_tier import Steady, until_playing
from tests.support.media_stage import publisher
from tests.support.media_tools import FFMPEG


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
