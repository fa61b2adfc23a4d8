"""What one push sends: a valid FLV stream from a keyframe, dropping to the next when full."""

from __future__ import annotations

from streaming.flv import TagType, parse_flv
from streaming.restream.buffer import PushBuffer
from tests.support.flv_tags import AUDIO_CONFIG, SCRIPT, VIDEO_CONFIG, audio, inter, keyframe


def test_the_buffer_starts_a_valid_flv_stream_at_a_keyframe() -> None:
    """Before ``begin`` only configurations are kept; after it the stream begins at the next
    keyframe with the header, metadata and configurations, timestamps counted from there."""
    buffer = PushBuffer(True, 1_000_000, [SCRIPT, VIDEO_CONFIG])
    assert not buffer.offer(AUDIO_CONFIG)
    assert not buffer.offer(keyframe(1000))
    buffer.begin()
    assert not buffer.offer(inter(1033))
    assert not buffer.offer(audio(1040))
    assert buffer.offer(keyframe(2000))
    assert buffer.offer(audio(2010))
    assert buffer.offer(inter(2033))
    data = b"".join(iter(buffer.take, None))
    assert buffer.size == 0
    tags = parse_flv(data)
    assert [t.kind for t in tags] == [
        TagType.SCRIPT, TagType.VIDEO, TagType.AUDIO, TagType.VIDEO, TagType.AUDIO, TagType.VIDEO,
    ]  # fmt: skip
    assert tags[1].is_video_config
    assert tags[2].is_audio_config
    assert tags[3].is_keyframe
    assert [t.timestamp for t in tags[3:]] == [0, 10, 33]


def test_a_full_buffer_drops_to_the_next_keyframe() -> None:
    """When ffmpeg falls behind, tags are dropped (frames counted) until a keyframe arrives;
    a configuration change meanwhile is still remembered."""
    buffer = PushBuffer(False, 700, [VIDEO_CONFIG])
    buffer.begin()
    assert buffer.offer(keyframe(0))
    assert buffer.offer(inter(33))
    assert buffer.offer(inter(66))
    assert not buffer.offer(inter(100, size=400))  # would overflow: skipping starts
    assert buffer.skipping
    assert not buffer.offer(inter(133))
    assert not buffer.offer(audio(140))  # a stream without audio never carries it
    queued = buffer.size
    assert buffer.take() is not None
    assert not buffer.offer(inter(166))  # room again, but not a keyframe
    assert buffer.dropped_frames == 3
    assert buffer.offer(keyframe(200))
    assert not buffer.skipping
    assert buffer.size < queued + 200
    buffer.halt()
    assert buffer.take() is None
    assert not buffer.offer(keyframe(300))
