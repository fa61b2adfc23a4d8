"""The [media] settings become the plane's configuration; bad ladders fail at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import load_settings
from streaming import names
from streaming.errors import InvalidArgument
from streaming.ladder import SourceInfo, plan_ladder
from streaming.plane import find_ffmpeg, next_run, plane_config, rung_for
from streaming.vocab import VideoCodec
from streaming.vod import CLAIMS, ClaimEntry, journal_line


def test_defaults_make_the_documented_ladder() -> None:
    """The default ladder is 720p, 480p and 360p below the source, and variables override."""
    settings = load_settings(
        None, {"TORGET_MEDIA_RTMP_PORT": "19350", "TORGET_MEDIA_POLL_MS": "80"}
    )
    config = plane_config(settings.media)
    assert (config.rtmp_host, config.rtmp_port) == ("127.0.0.1", 19350)
    assert config.pipeline.poll_seconds == pytest.approx(0.08)
    assert [r.name for r in config.pipeline.ladder.rungs] == ["720p", "480p", "360p"]
    assert config.data_dir == Path("data/media")
    assert config.pipeline.slate
    plan = plan_ladder(SourceInfo(1920, 1080, 30.0, VideoCodec.H264), config.pipeline.ladder)
    assert [r.name for r in plan.renditions] == ["source", "720p", "480p", "360p", "audio"]


def test_custom_heights_and_bad_ones() -> None:
    """Other heights get an area-scaled bit rate; an odd height is refused at start-up."""
    assert rung_for(720).video_bitrate == 2_800_000
    assert rung_for(1080).video_bitrate == 6_300_000
    assert rung_for(1080).name == "1080p"
    settings = load_settings(None, {})
    settings.media.ladder_heights = [1080, 1080, 240]
    assert [r.height for r in plane_config(settings.media).pipeline.ladder.rungs] == [1080, 240]
    settings.media.ladder_heights = [721]
    with pytest.raises(InvalidArgument):
        plane_config(settings.media)


def test_ffmpeg_and_run_numbers(tmp_path: Path) -> None:
    """An explicit ffmpeg wins; runs continue after the highest one found on disk, or from
    where the latest claim noted there begins."""
    assert find_ffmpeg("/opt/ffmpeg/bin/ffmpeg") == "/opt/ffmpeg/bin/ffmpeg"
    assert find_ffmpeg("")
    assert next_run(tmp_path / "missing") == 1
    for name in (names.init_name(3, 0), names.segment_name(12, 1, 4), "r0002.mpd", "slate.txt"):
        (tmp_path / name).write_bytes(b"")
    assert next_run(tmp_path) == 13
    (tmp_path / CLAIMS).write_bytes(journal_line(ClaimEntry(epoch=2, from_run=101)))
    assert next_run(tmp_path) == 101  # a claim after another node's starts past its runs
