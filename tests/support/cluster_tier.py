"""What the cluster tier's tests share: their marks, the session published to one node for the
whole run, what must keep working through nginx, and waiting for a playlist to play."""

from __future__ import annotations

import time
from dataclasses import dataclass

import aiohttp
import pytest

from tests.support import cluster as shape
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
