"""The relay's rules: keyframe-request coalescing, bounded viewer queues, GOP cache, timelines."""

from __future__ import annotations

import asyncio

import pytest

from streaming.errors import FeedClosed
from streaming.relay import KeyframeAnswer, KeyframeGate, RelayHub, SessionRelay, Timeline
from tests.support.waiting import until


class Clock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_gate_sends_one_request_for_a_crowd() -> None:
    """A hundred requests within one interval give one SEND; the rest are covered."""
    gate = KeyframeGate(interval=1.0)
    answers = [gate.request(10.0 + i / 1000)[0] for i in range(100)]
    assert answers.count(KeyframeAnswer.SEND) == 1
    assert answers[0] is KeyframeAnswer.SEND


def test_gate_defers_a_request_made_after_the_keyframe_came() -> None:
    """After a keyframe answered the last request, a new one waits for the interval's end."""
    gate = KeyframeGate(interval=1.0)
    assert gate.request(10.0) == (KeyframeAnswer.SEND, 0.0)
    assert gate.keyframe() is False
    answer, delay = gate.request(10.25)
    assert answer is KeyframeAnswer.LATER
    assert delay == pytest.approx(0.75)
    assert gate.request(10.5)[0] is KeyframeAnswer.COVERED
    assert gate.due(11.0) is True
    assert gate.request(11.5)[0] is KeyframeAnswer.COVERED  # still unanswered
    assert gate.request(12.0)[0] is KeyframeAnswer.SEND


def test_gate_cancels_a_deferred_request_when_a_keyframe_comes() -> None:
    """A keyframe arriving before the deferred request's time answers it."""
    gate = KeyframeGate(interval=1.0)
    gate.request(10.0)
    gate.keyframe()
    assert gate.request(10.2)[0] is KeyframeAnswer.LATER
    assert gate.keyframe() is True
    assert gate.due(11.0) is False


async def test_relay_asks_the_publisher_at_most_once_per_interval() -> None:
    """However many viewers join, the publisher hears one request per interval."""
    clock = Clock()
    relay = SessionRelay("s1", keyframe_interval=0.2, clock=clock)
    asked: list[float] = []
    relay.set_keyframe_requester(lambda: asked.append(clock.now))
    relay.publish_video(b"\0\0\0\1\x65key", 0, True)
    feeds = [relay.subscribe() for _ in range(50)]
    assert len(asked) == 1
    relay.publish_video(b"\0\0\0\1\x65key", 3000, True)  # the keyframe answers it
    clock.now += 0.05
    feeds += [relay.subscribe() for _ in range(50)]
    assert len(asked) == 1  # deferred to the end of the interval
    clock.now += 0.2
    await until(lambda: len(asked) == 2, timeout=5, what="the deferred request", interval=0.01)
    assert asked == [100.0, 100.25]
    assert relay.keyframe_requests == 2
    relay.close()
    assert relay.viewers == 0
    assert all(f.closed for f in feeds)


async def test_slow_viewer_drops_to_next_keyframe_without_touching_others() -> None:
    """A viewer whose queue fills loses its backlog and resumes at a keyframe; a reader that
    keeps up gets every unit."""
    relay = SessionRelay("s1", video_queue=5)
    asked: list[int] = []
    relay.set_keyframe_requester(lambda: asked.append(1))
    slow = relay.subscribe()
    fast = relay.subscribe()
    got: list[int] = []
    for i in range(12):
        relay.publish_video(bytes([i]), i * 3000, i in (0, 9))
        while fast.video:
            unit, _ = await fast.next_video()
            got.append(unit.pts)
    assert got == [i * 3000 for i in range(12)]
    assert slow.dropped == 1
    assert [u.pts for u in slow.video] == [27000, 30000, 33000]
    assert slow.video[0].keyframe
    assert len(asked) >= 1


async def test_new_viewer_starts_with_the_cached_gop() -> None:
    """A viewer joining mid-GOP gets the last keyframe and what followed, all but the newest
    re-timed to just before the live edge; with no keyframe yet it gets nothing."""
    relay = SessionRelay("s1")
    early = relay.subscribe()
    relay.publish_video(b"p", 0, False)
    assert not early.video
    assert not relay.has_picture
    for i in range(1, 5):
        relay.publish_video(bytes([i]), i * 3000, i == 2)
    late = relay.subscribe()
    units = [await late.next_video() for _ in range(3)]
    assert [(u.pts, pts) for u, pts in units] == [(6000, 11998), (9000, 11999), (12000, 12000)]
    assert [u.pts for u in early.video] == [6000, 9000, 12000]


async def test_feed_close_wakes_its_reader() -> None:
    """A reader waiting on a feed gets FeedClosed when the feed closes, and the relay forgets
    the feed."""
    relay = SessionRelay("s1")
    feed = relay.subscribe()
    waiting = asyncio.create_task(feed.next_audio())
    await asyncio.sleep(0)
    feed.close()
    with pytest.raises(FeedClosed):
        await waiting
    assert relay.viewers == 0


def test_audio_queue_drops_its_oldest() -> None:
    """A full audio queue keeps the newest packets."""
    relay = SessionRelay("s1", audio_queue=3)
    feed = relay.subscribe()
    for i in range(5):
        relay.publish_audio(bytes([i]), i * 960)
    assert [u.pts for u in feed.audio] == [1920, 2880, 3840]


def test_timeline_continues_after_a_new_publisher_and_a_jump() -> None:
    """A second publisher starting at 0 again, and a clock jump, continue the outgoing line."""
    line = Timeline(step=3000, jump=900_000)
    assert [line.map(p) for p in (1000, 4000, 7000)] == [1000, 4000, 7000]
    line.new_run()
    assert [line.map(p) for p in (0, 3000)] == [10000, 13000]
    assert line.map(50_000_000) == 16000


def test_source_ended_keeps_viewers_and_restarts_at_a_keyframe() -> None:
    """After the publisher leaves, viewers stay, the GOP cache is gone and they wait for a
    keyframe of the next publisher, whose timestamps follow the last ones."""
    relay = SessionRelay("s1")
    feed = relay.subscribe()
    relay.publish_video(b"k", 90_000, True)
    relay.source_ended()
    assert relay.viewers == 1
    assert not relay.live
    assert not relay.has_picture
    relay.publish_video(b"p", 0, False)
    relay.publish_video(b"k", 3000, True)
    assert [u.pts for u in feed.video] == [90_000, 96_000]  # the dropped frame took 93 000


def test_hub_drop_closes_the_relay() -> None:
    """Dropping a session's relay closes its viewers' feeds."""
    hub = RelayHub()
    relay = hub.relay("s1")
    assert hub.relay("s1") is relay
    feed = relay.subscribe()
    hub.drop("s1")
    assert feed.closed
    assert hub.get("s1") is None


async def test_rtmp_tap_feeds_the_relay_unless_it_is_fed_natively() -> None:
    """The RTMP tap factory opens a tap that turns FLV AVC tags into relay units, and none for
    a session whose relay a WHIP ingest feeds itself."""
    from datetime import UTC, datetime

    from streaming.flv import FlvTag, TagType
    from streaming.ladder import SourceInfo
    from streaming.rtmp_relay import RtmpRelayTaps
    from streaming.vocab import VideoCodec
    from studio.models import Session
    from studio.states import SessionState

    now = datetime(2026, 5, 20, 7, tzinfo=UTC)

    def session(session_id: str) -> Session:
        return Session(
            id=session_id, studio_id="std_1", title="T", description="", speakers=(),
            language="en", starts_at=now, ends_at=now, state=SessionState.READY,
            auto_start=False, auto_end=False, created_at=now, updated_at=now,
        )  # fmt: skip

    hub = RelayHub()
    taps = RtmpRelayTaps(hub)
    source = SourceInfo(320, 240, 30.0, VideoCodec.H264)
    hub.relay("whip").native_source = True
    assert taps(session("whip"), source, []) is None
    config = FlvTag(
        TagType.VIDEO,
        0,
        bytes([0x17, 0, 0, 0, 0, 1, 0x42, 0, 0x1E, 0xFF, 0xE1, 0, 2, 0x67, 0x42, 1, 0, 1, 0x68]),
    )
    idr = FlvTag(TagType.VIDEO, 40, bytes([0x17, 1, 0, 0, 0]) + b"\0\0\0\2\x65\x88")
    tap = taps(session("rtmp"), source, [config])
    assert tap is not None
    feed = hub.relay("rtmp").subscribe()
    tap.tag(idr)
    unit, pts = await feed.next_video()
    assert unit.data == b"\0\0\0\1\x67\x42\0\0\0\1\x68\0\0\0\1\x65\x88"
    assert (pts, unit.keyframe) == (3600, True)
    await tap.close()
    assert not hub.relay("rtmp").live
