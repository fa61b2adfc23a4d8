"""The media benchmark end to end: a very short run against a real Torget node and ffmpeg (slow)."""

from __future__ import annotations

import shutil

import pytest


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
async def test_the_media_benchmark_runs_end_to_end() -> None:
    """A very short run against a real Torget node measures every part and reports it."""
    from bench.media.report import markdown
    from bench.media.run import SMOKE, run_async

    result = await run_async(SMOKE, say=lambda _: None)
    assert result.notes == []
    [first] = result.first
    assert first.error == ""
    assert first.segment is not None
    assert first.part is not None
    latency = result.latency
    assert latency is not None
    assert latency.error == ""
    for delays in (latency.low_latency, latency.classic):
        assert delays.errors == []
        assert delays.unreadable == 0
        assert delays.newest
        # The burned-in clock read back is the publisher's clock: a plausible, positive delay.
        assert all(0 < d < 60 for d in delays.newest)
    assert latency.low_latency.player
    assert latency.part_hold_back is not None
    assert latency.target_duration >= 1
    assert [(r.ladder, r.source) for r in result.cpu] == [((), 720), ((360,), 720)]
    for run in result.cpu:
        assert run.error == ""
        assert run.ffmpeg_cores is not None
        assert run.ffmpeg_cores > 0
    assert [v.resolution for v in result.cpu[1].renditions] == [(1280, 720), (640, 360)]
    text = markdown(result)
    assert "### Delivery latency (newest frame fetched)" in text
    assert "| source + 360p | 720p30 |" in text
