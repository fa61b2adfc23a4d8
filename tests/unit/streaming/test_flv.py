"""The per-run FLV feed tells when the source's parameter sets change under a run."""

from __future__ import annotations

from streaming.flv import FlvFeed, FlvTag, TagType, parse_flv
from tests.support.flv_tags import AUDIO_CONFIG, VIDEO_CONFIG, audio, inter, keyframe

OTHER_CONFIG = FlvTag(TagType.VIDEO, 0, bytes([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x20, 0xFF]))


def test_a_new_video_configuration_under_a_run_asks_for_a_new_run() -> None:
    """Before the run's first keyframe a new configuration is simply taken; once started, the
    same configuration again (browsers repeat it with keyframes) changes nothing, another one
    (a new picture size) does, and after ``restart`` the next run starts with it."""
    feed = FlvFeed(has_audio=True)
    for tag in (VIDEO_CONFIG, AUDIO_CONFIG):
        assert not feed.changes_config(tag)
        assert feed.push(tag) == b""
    assert not feed.changes_config(OTHER_CONFIG)  # nothing written yet: no run to change
    feed.push(OTHER_CONFIG)
    first = parse_flv(feed.push(keyframe(40)))
    assert [t.payload for t in first] == [OTHER_CONFIG.payload, AUDIO_CONFIG.payload,
                                          keyframe(0).payload]  # fmt: skip
    repeated = FlvTag(TagType.VIDEO, 80, OTHER_CONFIG.payload)
    assert not feed.changes_config(repeated)
    assert not feed.changes_config(audio(80))
    assert not feed.changes_config(inter(80))
    changed = FlvTag(TagType.VIDEO, 120, VIDEO_CONFIG.payload)
    assert feed.changes_config(changed)
    feed.restart()
    assert not feed.changes_config(changed)
    assert feed.push(changed) == b""
    assert feed.push(inter(150)) == b""  # a new run starts at a keyframe
    second = parse_flv(feed.push(keyframe(160)))
    assert second[0].payload == VIDEO_CONFIG.payload
    assert second[-1].timestamp == 0
    assert feed.changes_config(FlvTag(TagType.VIDEO, 200, OTHER_CONFIG.payload))
