"""The ingest meter: bit rates, frame rate and keyframes measured from tags on a hand clock."""

from __future__ import annotations

from datetime import UTC, datetime

from streaming.flv import FlvTag, TagType
from streaming.health import HealthBoard, IngestMeter
from streaming.ladder import SourceInfo
from streaming.vocab import IngestOrigin, VideoCodec
from streaming.webrtc_media import video_config_tag
from studio.models import Session
from studio.states import SessionState
from tests.support.flv_tags import (
    AUDIO_CONFIG,
    PPS,
    SPS_360P,
    SPS_720P,
    VIDEO_CONFIG,
    audio,
    inter,
    keyframe,
)


def feed(meter: IngestMeter, seconds: float, start: float = 0.0, gop: int = 30) -> float:
    """Feed ``seconds`` of 30 fps video (1000-byte frames, a keyframe every ``gop`` frames) and
    50 audio frames a second (250 bytes), arriving on time; return the end time."""
    frames = round(seconds * 30)
    for n in range(frames):
        at = start + n / 30
        ms = round(at * 1000)
        tag = keyframe(ms, 995) if n % gop == 0 else inter(ms, 995)
        meter.add(tag, at)
        if n % 3 == 0:
            for k in range(5):
                meter.add(audio(ms + k * 20, 248), at + k * 0.02)
    return start + frames / 30


def test_rates_are_measured_over_the_window() -> None:
    """30 fps of 1000-byte frames and 50 audio frames of 250 bytes a second measure as
    240 kbit/s video, 100 kbit/s audio, 30 fps."""
    meter = IngestMeter(window=5.0)
    end = feed(meter, 10.0)
    m = meter.measure(end)
    assert m.fps is not None
    assert 29 <= m.fps <= 31
    assert m.video_bitrate is not None
    assert 230_000 <= m.video_bitrate <= 250_000
    assert m.audio_bitrate is not None
    assert 95_000 <= m.audio_bitrate <= 105_000
    assert m.bitrate == m.video_bitrate + m.audio_bitrate
    assert m.frames == 300
    assert m.bytes == 300 * 1000 + 500 * 250


def test_keyframes_are_timed() -> None:
    """The interval comes from the publisher's timestamps; the time since the last keyframe
    grows while none comes."""
    meter = IngestMeter()
    end = feed(meter, 4.0, gop=60)
    m = meter.measure(end)
    assert m.keyframe_interval == 2.0
    assert m.seconds_since_keyframe is not None
    assert 1.9 <= m.seconds_since_keyframe <= 2.0
    later = meter.measure(end + 3)
    assert later.seconds_since_keyframe is not None
    assert 4.9 <= later.seconds_since_keyframe <= 5.0


def test_nothing_is_claimed_too_early_and_a_stall_shows() -> None:
    """Under half a second of media gives no rates; when media stops, the rates fall to 0."""
    meter = IngestMeter(window=2.0)
    assert meter.measure(0.0).bitrate is None
    meter.add(VIDEO_CONFIG, 0.0)
    meter.add(AUDIO_CONFIG, 0.0)
    meter.add(keyframe(0), 0.0)
    early = meter.measure(0.2)
    assert (early.bitrate, early.fps) == (None, None)
    assert early.seconds_since_keyframe == 0.2
    end = feed(meter, 3.0, start=0.1)
    assert (meter.measure(end).fps or 0) > 25
    stalled = meter.measure(end + 10)
    assert (stalled.bitrate, stalled.fps) == (0, 0.0)


def test_the_board_lists_a_publish_while_it_runs() -> None:
    """The board makes one measuring tap per publish, with its origin and peer, and forgets it
    when the publish closes."""
    now = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
    clock = [0.0]
    board = HealthBoard(
        lambda session_id: (IngestOrigin.RTMP, f"127.0.0.1:5{len(session_id)}"),
        clock=lambda: clock[0],
        wall=lambda: now,
    )
    session = Session(
        id="ses_h", studio_id="std_x", title="T", description="", speakers=(), language="sv",
        starts_at=now, ends_at=now, state=SessionState.READY, auto_start=False, auto_end=False,
        created_at=now, updated_at=now,
    )  # fmt: skip
    source = SourceInfo(1280, 720, 30.0, VideoCodec.H264, has_audio=True, keyframe_interval=1.0)
    tap = board(session, source, [VIDEO_CONFIG])
    live = board.get("ses_h")
    assert live is not None
    assert (live.origin, live.peer, live.connected_since) == (
        IngestOrigin.RTMP,
        "127.0.0.1:55",
        now,
    )
    for n in range(30):
        clock[0] = n / 30
        tap.tag(FlvTag(TagType.VIDEO, n * 33, inter(n * 33).payload))
    assert live.meter.frames == 30
    assert [h.session_id for h in board.sessions()] == ["ses_h"]


async def test_a_closed_publish_is_no_longer_listed() -> None:
    """Closing the tap removes the session from the board."""
    now = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
    board = HealthBoard()
    session = Session(
        id="ses_c", studio_id="std_x", title="T", description="", speakers=(), language="sv",
        starts_at=now, ends_at=now, state=SessionState.LIVE, auto_start=False, auto_end=False,
        created_at=now, updated_at=now,
    )  # fmt: skip
    tap = board(session, SourceInfo(640, 360, 25.0, VideoCodec.H264), [])
    assert board.get("ses_c") is not None
    await tap.close()
    assert board.get("ses_c") is None


def test_keyframes_on_request_are_timed_over_the_window_and_the_size_follows_the_source() -> None:
    """A browser's keyframes come when asked, a little irregularly: the interval is their mean
    over the window (not the last gap), and the picture size is the latest configuration's
    (a browser ramps 640x360 up to 1280x720)."""
    meter = IngestMeter(window=5.0)
    meter.add(video_config_tag(SPS_360P, PPS, 0), 0.0)
    assert meter.measure(0.0).size == (640, 360)
    at = 0.0
    for n, gap in enumerate((0.9, 1.1, 1.0, 0.95, 1.05, 1.0, 1.0, 0.9, 1.1)):
        meter.add(keyframe(round(at * 1000)), at)
        if n == 2:
            meter.add(video_config_tag(SPS_720P, PPS, round(at * 1000)), at)
        for k in range(1, 10):
            meter.add(inter(round((at + k * gap / 10) * 1000)), at + k * gap / 10)
        at += gap
    m = meter.measure(at)
    assert m.size == (1280, 720)
    assert m.keyframe_interval is not None
    assert 0.95 <= m.keyframe_interval <= 1.05
