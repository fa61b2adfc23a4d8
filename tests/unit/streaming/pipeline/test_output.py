"""The live playlists a run's output goes into."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streaming import names
from streaming.flv import FlvTag, IngestClock, TagType
from streaming.ladder import SourceInfo, plan_ladder
from streaming.pipeline.output import playlists_for, run_anchor
from streaming.vocab import VideoCodec
from tests.support.hls_checks import check_media_playlist


def test_playlists_allow_millisecond_timestamps_and_keep_the_hold_back_rule() -> None:
    """Part targets get a millisecond of slack for FLV timestamps; PART-HOLD-BACK stays at
    least three rendered part targets, so the rendered playlists follow the spec."""
    plan = plan_ladder(SourceInfo(1280, 720, 29.97, VideoCodec.H264, keyframe_interval=1.0))
    playlists = playlists_for(plan, 12.0)
    for rendition in plan.renditions:
        playlist = playlists[rendition.index]
        assert playlist.part_target > rendition.part_target
        name = names.segment_name(1, rendition.index, 1)
        playlist.add_part(
            name, duration=rendition.part_target + 0.001, independent=True, offset=0, length=10
        )
        playlist.complete_segment(name)
        check_media_playlist(playlist.render())


def test_a_run_is_timed_from_when_its_first_input_was_taken_in() -> None:
    """A run's decode time 0 is when its first input was taken in (a probe or a slate may
    have held it a while), unless that is after its output was written or over 10 s before
    it (a publisher faster than real time): then when its output was written."""
    written = datetime(2026, 12, 6, 2, 0, 0, tzinfo=UTC)
    held = written - timedelta(seconds=1.2)
    assert run_anchor(written, held) == held
    assert run_anchor(written, None) == written
    assert run_anchor(written, written + timedelta(seconds=0.1)) == written
    assert run_anchor(written, written - timedelta(seconds=11)) == written


def test_the_ingest_clock_times_a_tag_by_its_timestamp() -> None:
    """A tag held before ffmpeg got it was taken in at the first tag's arrival plus the
    difference of their timestamps."""
    arrived = datetime(2026, 12, 6, 2, 0, 0, tzinfo=UTC)
    clock = IngestClock(arrived, timestamp=500)
    tag = FlvTag(TagType.VIDEO, 1750, b"")
    assert clock.taken_in(tag) == arrived + timedelta(seconds=1.25)
