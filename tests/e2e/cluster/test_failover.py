"""Media failover through the shipped shape: the node holding a live publish is killed (-9),
the publisher reconnects to the other node, the session plays on within seconds (in a real
player: Chromium on the session page), the killed node comes back without building anything,
and the session has one recording, whole, whose MP4 lasts what the API says."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import aiohttp
import m3u8  # type: ignore[import-untyped]
import pytest

from streaming.vod import JOURNAL, parse_journal
from tests.support.browser import chromium, open_page
from tests.support.cluster import Cluster
from tests.support.cluster_tier import TIER, Steady, until_playing
from tests.support.media_stage import publisher
from tests.support.media_tools import probe

pytestmark = [*TIER, pytest.mark.timeout(300)]

RESUME_TARGET_S = 5.0  # docs/operations.md: what a viewer sees while the publisher moves


async def plays_again(url: str, seconds: float = 40.0) -> float:
    """Seconds until the media playlist at ``url`` answers and its newest segment can be
    fetched (what a player needs to play again)."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url, params={"probe": str(time.monotonic())}) as answer:
                    if answer.status == 200:
                        listed = m3u8.loads(await answer.text())
                        complete = [s.uri for s in listed.segments if s.uri]
                        if complete:
                            newest = url.rsplit("/", 1)[0] + "/" + complete[-1]
                            async with http.get(newest) as segment:
                                if segment.status == 200:
                                    return time.monotonic() - started
            except aiohttp.ClientError:
                pass
            assert time.monotonic() - started < seconds, f"{url} not playing after {seconds} s"
            await asyncio.sleep(0.1)


async def names_listed(url: str) -> tuple[int, int, set[str]]:
    """The media playlist at ``url``: its first and last media sequence numbers, and every
    name it lists (init segments, segments, parts)."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, params={"probe": str(time.monotonic())}) as answer,
    ):
        assert answer.status == 200
        listed = m3u8.loads(await answer.text())
    found = {s.uri for s in listed.segments if s.uri} | {m.uri for m in listed.segment_map}
    found |= {part.uri for s in listed.segments for part in s.parts}
    first = listed.media_sequence or 0
    return first, first + len(listed.segments) - 1, found


class Watch:
    """A real player (Chromium, the session page's hls.js) watched while the media moves: its
    position sampled every 0.1 s, to tell when playback stalled and when it moved again."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.samples: list[tuple[float, float]] = []  # (monotonic time, video position)
        self._task: asyncio.Task[None] | None = None

    async def position(self) -> float:
        return float(await self.page.evaluate("document.getElementById('video').currentTime"))

    async def playing(self, seconds: float = 60.0) -> None:
        """Wait until the video advances (frames are decoded and shown)."""
        deadline = time.monotonic() + seconds
        while await self.position() < 1.0:
            assert time.monotonic() < deadline, "the player never started"
            await asyncio.sleep(0.25)

    def start(self) -> None:
        async def sample() -> None:
            while True:
                self.samples.append((time.monotonic(), await self.position()))
                await asyncio.sleep(0.1)

        self._task = asyncio.create_task(sample())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def resumed_after(self, since: float) -> float | None:
        """Seconds from ``since`` until playback moved again after its stall: the first
        second-long window after a stall in which the position advanced by half a second or
        more (0 when it never stalled; None when it never moved again)."""
        stalled = False
        for index, (at, position) in enumerate(self.samples):
            earlier = [p for t, p in self.samples[:index] if at - 1.0 <= t <= at - 0.9]
            if not earlier:
                continue
            moved = position - earlier[-1]
            if moved < 0.1:
                stalled = True
            elif stalled and moved >= 0.5 and at > since:
                return at - since
        return 0.0 if not stalled else None


async def test_a_killed_owner_leaves_one_whole_recording(
    cluster: Cluster, steady: Steady, tmp_path: Path
) -> None:
    """kill -9 of the node holding a live RTMP publish: the publisher reconnects to the other
    node and HLS plays again through nginx within the target, under names and media sequence
    numbers the old owner never listed; the killed node restarts and
    builds no recording; the session ends (through nginx, any node) into exactly one
    recording on the last owner, holding both nodes' runs (one discontinuity), whose MP4's
    duration (ffprobe) is the API's."""
    victim, survivor = cluster.nodes
    assert survivor is steady.owner
    session_id, key = await cluster.new_session("Failover with one recording")
    await cluster.api("POST", f"/api/v1/sessions/{session_id}/live")
    playlist = f"{cluster.url}/hls/{session_id}/source.m3u8"
    async with chromium() as browser:
        viewer = await open_page(browser, cluster.url, "failover-viewer")
        watch = Watch(viewer.page)
        try:
            async with publisher(victim.rtmp(key), size="640x360", gop=30) as first:
                await until_playing(playlist)
                await viewer.page.goto(f"/s/{session_id}")
                await watch.playing()
                watch.start()
                await asyncio.sleep(2.0)
                _, old_last, old_names = await names_listed(playlist)
                victim.kill()
                await asyncio.wait_for(first.wait(), 15)  # OBS notices its server is gone
            async with publisher(survivor.rtmp(key), size="640x360", gop=30) as moved:
                reconnected = time.monotonic()
                available = await plays_again(playlist)
                # Nothing the old owner listed (and caches keep) names the new owner's media.
                new_first, _, new_names = await names_listed(playlist)
                assert new_first > old_last
                assert not new_names & old_names
                await cluster.wait_healthy()
                await asyncio.sleep(max(0.0, reconnected + 10.0 - time.monotonic()))
                await watch.stop()
                await viewer.page.context.close()
                await cluster.api("POST", f"/api/v1/sessions/{session_id}/end")
                await asyncio.wait_for(moved.wait(), 30)
        finally:
            await watch.stop()
    resumed = watch.resumed_after(reconnected)
    print(f"after the publisher reconnected to the other node: its HLS answered through nginx "
          f"in {available:.1f} s, the session page's player moved again in "
          f"{'never' if resumed is None else f'{resumed:.1f} s'}")  # fmt: skip
    deadline = time.monotonic() + 120
    while (await cluster.api("GET", f"/api/v1/sessions/{session_id}"))["state"] != "replay":
        assert time.monotonic() < deadline, "no replay 120 s after the end"
        await asyncio.sleep(0.5)
    view = await cluster.api("GET", f"/api/v1/sessions/{session_id}/recording")
    assert (view["state"], view["message"]) == ("ready", "")
    built = [
        n.name for n in cluster.nodes if (n.media_dir / session_id / "recording.json").exists()
    ]
    assert built == [survivor.name]
    assert not (victim.media_dir / session_id / "recording.mp4").exists()
    journal = parse_journal((survivor.media_dir / session_id / JOURNAL).read_bytes())
    assert {entry.origin for entry in journal.values()} == {"", victim.url}
    async with aiohttp.ClientSession(headers=cluster.admin) as http:
        async with http.get(playlist) as answer:
            vod = m3u8.loads(await answer.text())
        async with http.get(f"{cluster.url}/api/v1/sessions/{session_id}/recording.mp4") as got:
            assert got.status == 200
            (tmp_path / "replay.mp4").write_bytes(await got.read())
    assert vod.is_endlist
    assert [s.discontinuity for s in vod.segments].count(True) == 1
    assert sum(s.duration for s in vod.segments) == pytest.approx(view["duration_seconds"], 0.01)
    assert view["duration_seconds"] > 8.0
    served = float(probe(tmp_path / "replay.mp4")["format"]["duration"])
    assert served == pytest.approx(view["duration_seconds"], abs=0.5)
    assert available < RESUME_TARGET_S
    assert resumed is not None
    assert resumed < RESUME_TARGET_S
