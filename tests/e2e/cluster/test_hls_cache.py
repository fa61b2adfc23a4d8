"""nginx's HLS cache in front of the nodes: concurrent viewers' blocking reloads and part
requests reach the node holding the media once, whatever viewer id each carries."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from bench.media.playlist import parse_media
from tests.support.cluster import Cluster
from tests.support.cluster_tier import TIER, Steady

pytestmark = [*TIER, pytest.mark.timeout(120)]

HLS = "/hls/"
VIEWERS = 20


async def get_all(urls: list[str]) -> list[tuple[int, bytes, Any]]:
    """GET every URL at once; (status, body, headers) of each."""
    async with aiohttp.ClientSession() as http:

        async def one(url: str) -> tuple[int, bytes, Any]:
            async with http.get(url) as answer:
                return answer.status, await answer.read(), answer.headers

        return await asyncio.gather(*(one(url) for url in urls))


async def test_concurrent_blocking_reloads_and_parts_reach_the_owner_once(
    cluster: Cluster, steady: Steady
) -> None:
    """Twenty viewers (each with its own ?v=) join at once (multivariant and media playlist),
    ask at once for the playlist that will list the next part (a blocking reload), then for
    that part: the node holding the media answers each at most once, and every viewer gets
    the same bytes from nginx."""
    owner = steady.owner
    base = cluster.url + steady.playlist
    multivariant = base.rsplit("/", 1)[0] + "/index.m3u8"
    joining = [f"{url}?v=vwr_joiner{i:04d}" for url in (multivariant, base) for i in range(VIEWERS)]
    before_join = await owner.requests(HLS)
    joined = await get_all(joining)
    assert {a[0] for a in joined} == {200}
    statuses = sorted({(a[2].get("X-Cache-Status"), a[2].get("Cache-Control")) for a in joined})
    assert await owner.requests(HLS) - before_join <= 2, statuses  # one per playlist at most
    msn, part = parse_media(joined[-1][1].decode()).next_part()
    reload = f"{base}?_HLS_msn={msn}&_HLS_part={part}"
    before = await owner.requests(HLS)
    answers = await get_all([f"{reload}&v=vwr_viewer{i:04d}" for i in range(VIEWERS)])
    after_reload = await owner.requests(HLS)
    assert {a[0] for a in answers} == {200}
    assert len({a[1] for a in answers}) == 1
    assert answers[0][2]["Cache-Control"] == "public, max-age=30"
    assert sorted(a[2]["X-Cache-Status"] for a in answers) == ["HIT"] * (VIEWERS - 1) + ["MISS"]
    assert after_reload - before == 1

    listed = parse_media(answers[0][1].decode())
    newest = next(s for s in reversed(listed.segments) if s.parts).parts[-1]
    part_url = base.rsplit("/", 1)[0] + "/" + newest.uri
    parts = await get_all([f"{part_url}?v=vwr_viewer{i:04d}" for i in range(VIEWERS)])
    assert {p[0] for p in parts} == {200}
    assert len({p[1] for p in parts}) == 1
    assert await owner.requests(HLS) - after_reload == 1
