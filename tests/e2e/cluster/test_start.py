"""Starting the shape as docker-compose.yml does: the first admin token is where the compose
file says, and nodes started at the same instant on an empty database all come up."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from studio.store.schema import head_revision
from tests.support.cluster import Cluster, NodeFailed, plan_nodes, start_nodes
from tests.support.cluster_tier import TIER
from tests.support.deploy_files import first_admin_token, first_token_hint

pytestmark = [*TIER, pytest.mark.timeout(300)]

ATTEMPTS = 10


async def test_the_first_admin_token_is_where_the_compose_file_says(cluster: Cluster) -> None:
    """Following the compose file's ``grep -A4 "first start"`` through the nodes' logs finds
    exactly one token (only the node that made it prints it), and it signs in through nginx."""
    pattern, _ = first_token_hint()
    tokens = [first_admin_token(node.log_text()) for node in cluster.nodes]
    found = [token for token in tokens if token]
    assert len(found) == 1, (pattern, tokens)
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {found[0]}"}) as http,
        http.get(cluster.url + "/api/v1/tokens") as answer,
    ):
        assert answer.status == 200


async def test_two_nodes_started_together_on_an_empty_database(cluster: Cluster) -> None:
    """Two nodes started at the same instant on an empty PostgreSQL database (what
    ``docker compose up`` does) both become healthy, ten times over (one server, a new
    database each time): the migrations run under a lock, one node makes the schema."""
    redis_url = cluster.redis.url.rsplit("/", 1)[0] + "/1"  # apart from the running shape
    for attempt in range(ATTEMPTS):
        store_url = cluster.postgres.create_database()
        nodes = plan_nodes(
            cluster.directory / f"together-{attempt}", 2, redis_url=redis_url, store_url=store_url
        )
        try:
            await start_nodes(nodes, together=True)
        except NodeFailed as exc:
            raise AssertionError(f"attempt {attempt + 1} of {ATTEMPTS}: {exc}") from exc
        finally:
            await asyncio.gather(*(node.stop() for node in nodes))
            cluster.postgres.drop_database(store_url.rsplit("/", 1)[1])
        made = [
            node
            for node in nodes
            if f"store schema: revision none -> {head_revision()}" in node.log_text()
        ]
        assert len(made) == 1, f"attempt {attempt + 1}: {len(made)} nodes made the schema"
