"""The live playlists a run's output goes into."""

from __future__ import annotations

from streaming import names
from streaming.ladder import SourceInfo, plan_ladder
from streaming.pipeline.output import playlists_for
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
