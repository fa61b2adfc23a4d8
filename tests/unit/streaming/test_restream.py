"""Restream's pure parts: destination URLs, masking and scrubbing, retries, the push buffer."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from streaming.errors import InvalidArgument
from streaming.ffmpeg_args import PipeInput, restream_args
from streaming.flv import FlvTag, TagType, parse_flv
from streaming.ladder import SourceInfo
from streaming.restream import (
    URL_PROBLEM,
    DestinationStatus,
    PushBuffer,
    Pusher,
    RestreamConfig,
    Restreamer,
    Retries,
    RetryPolicy,
    Target,
    check_push_url,
    mask_url,
    scrub,
    url_secrets,
)
from streaming.vocab import AudioCodec, InputFormat, RestreamState, VideoCodec
from studio.models import Session
from studio.states import SessionState

YOUTUBE = "rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl-mnop"
FACEBOOK = "rtmps://live-api-s.facebook.com:443/rtmp/FB-1234567890-0-AbCdEfGh?s_bl=1&s_ps=1"

# --- synthetic FLV tags ---------------------------------------------------------------------------

VIDEO_CONFIG = FlvTag(TagType.VIDEO, 0, bytes([0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1F, 0xFF]))
AUDIO_CONFIG = FlvTag(TagType.AUDIO, 0, bytes([0xAF, 0, 0x11, 0x90]))
SCRIPT = FlvTag(TagType.SCRIPT, 0, b"\x02\x00\x0aonMetaData\x08\x00\x00\x00\x00\x00\x00\x09")


def keyframe(ms: int, size: int = 100) -> FlvTag:
    """A coded keyframe of ``size`` bytes at ``ms``."""
    return FlvTag(TagType.VIDEO, ms, bytes([0x17, 1, 0, 0, 0]) + bytes(size))


def inter(ms: int, size: int = 100) -> FlvTag:
    """A coded inter frame of ``size`` bytes at ``ms``."""
    return FlvTag(TagType.VIDEO, ms, bytes([0x27, 1, 0, 0, 0]) + bytes(size))


def audio(ms: int, size: int = 20) -> FlvTag:
    """An AAC frame at ``ms``."""
    return FlvTag(TagType.AUDIO, ms, bytes([0xAF, 1]) + bytes(size))


# --- URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [YOUTUBE, FACEBOOK, "rtmp://127.0.0.1:1935/live/x"])
def test_push_urls_of_the_usual_services_are_accepted(url: str) -> None:
    """YouTube, Facebook (rtmps with a port and a query) and a local server are destinations."""
    assert check_push_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://a.rtmp.youtube.com/live2/key",
        "rtmp:///live2/key",
        "rtmp://a.rtmp.youtube.com",
        "rtmp://a.rtmp.youtube.com/",
        "rtmp://host/live/key with space",
        "rtmp://host/live/kéy",
        "rtmp://host:99999/live/key",
        "rtmp://host/live/key#frag",
        "rtmp://host/live/key\n",
        "file:///etc/passwd",
        "-f flv rtmp://host/live/key",
    ],
)
def test_other_urls_are_refused_with_a_plain_explanation(url: str) -> None:
    """Anything but rtmp(s) with a host and a path is refused, and the message says what fits."""
    with pytest.raises(InvalidArgument) as caught:
        check_push_url(url)
    assert caught.value.field == "url"
    assert caught.value.problem == URL_PROBLEM
    assert caught.value.problem == (
        "must be an rtmp:// or rtmps:// URL with a host and a path, "
        "like rtmp://a.rtmp.youtube.com/live2/<stream key>"
    )


def test_overlong_urls_are_refused() -> None:
    """A URL longer than 1024 characters is refused before anything parses it."""
    with pytest.raises(InvalidArgument, match="must be at most 1024 characters"):
        check_push_url("rtmp://host/live/" + "k" * 1100)


def test_masking_keeps_the_last_four_characters_of_a_long_key_only() -> None:
    """The API shows where a push goes but not its key; short keys are masked whole."""
    assert mask_url(YOUTUBE) == "rtmp://a.rtmp.youtube.com/live2/••••mnop"
    assert mask_url(FACEBOOK) == "rtmps://live-api-s.facebook.com:443/rtmp/••••EfGh?••••"
    assert mask_url("rtmp://host/live/short") == "rtmp://host/live/••••"
    assert mask_url("rtmp://user:secretpass@host/app/streamkey-123456") == (
        "rtmp://host/app/••••3456"
    )
    for url in (YOUTUBE, FACEBOOK):
        for secret in url_secrets(url):
            assert secret not in mask_url(url)


def test_scrubbing_removes_the_key_from_ffmpeg_output() -> None:
    """ffmpeg's error lines name the URL: what is left names the host, never the key."""
    line = f"{YOUTUBE}: Connection refused"
    assert scrub(line, YOUTUBE) == "rtmp://a.rtmp.youtube.com/live2/***: Connection refused"
    assert "abcd-efgh-ijkl-mnop" not in scrub("Unexpected stream abcd-efgh-ijkl-mnop", YOUTUBE)
    with_password = "rtmp://bob:hunter2hunter2@host/app/key-0123456789"
    scrubbed = scrub(f"auth failed for {with_password} (hunter2hunter2)", with_password)
    assert "hunter2hunter2" not in scrubbed
    assert "key-0123456789" not in scrubbed
    assert "FB-1234567890-0-AbCdEfGh" not in scrub(f"[rtmp] {FACEBOOK} failed", FACEBOOK)
    assert "s_bl=1" not in scrub(f"[rtmp] {FACEBOOK} failed", FACEBOOK)


def test_the_push_is_ffmpeg_copying_flv_from_its_stdin() -> None:
    """Each destination runs ffmpeg with FLV on stdin, streams copied, FLV out to the URL."""
    assert restream_args(PipeInput(InputFormat.FLV), YOUTUBE, audio=AudioCodec.AAC) == [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-nostats",
        "-progress", "pipe:1", "-analyzeduration", "1000000", "-f", "flv", "-i", "pipe:0",
        "-map", "0:v:0", "-map", "0:a:0", "-c:v", "copy", "-c:a", "copy",
        "-f", "flv", "-flvflags", "no_duration_filesize", YOUTUBE,
    ]  # fmt: skip


# --- retries ------------------------------------------------------------------------------------


@dataclass
class Ticks:
    """A monotonic clock moved by hand."""

    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_policy_backs_off_then_gives_up() -> None:
    """1, 2, 5, 10, 30 s, then 30 s again, until the eighth failure in a row gives up."""
    policy = RetryPolicy()
    assert [policy.delay(n) for n in range(1, 9)] == [1, 2, 5, 10, 30, 30, 30, None]


def test_a_bad_policy_is_refused() -> None:
    """A policy without delays or that never tries cannot be made."""
    with pytest.raises(InvalidArgument):
        RetryPolicy(delays=())
    with pytest.raises(InvalidArgument):
        RetryPolicy(max_failures=0)


def test_failures_count_until_a_push_stays_up() -> None:
    """Quick failures add up; a push that stayed live long enough starts the count afresh,
    one that dropped soon after connecting does not."""
    clock = Ticks()
    retries = Retries(RetryPolicy(delays=(1, 2, 5), max_failures=4, stable_seconds=30), clock)
    retries.started()
    assert retries.ended() == 1
    retries.started()
    retries.went_live()
    clock.now += 10  # live, but not for long
    assert retries.ended() == 2
    assert retries.failures == 2
    retries.started()
    retries.went_live()
    clock.now += 31  # stayed up: the count starts again
    assert retries.ended() == 1
    assert retries.failures == 1
    for expected in (2, 5, None):
        retries.started()
        clock.now += 5
        assert retries.ended() == expected
    assert retries.failures == 4


# --- the push buffer ----------------------------------------------------------------------------


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


def test_a_status_moves_its_since_only_on_a_change() -> None:
    """``since`` says since when a destination is in its state."""
    t1 = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
    t2 = datetime(2026, 5, 20, 7, 1, tzinfo=UTC)
    status = DestinationStatus(since=t1)
    status.move(RestreamState.IDLE, t2)
    assert status.since == t1
    status.move(RestreamState.CONNECTING, t2)
    assert (status.state, status.since) == (RestreamState.CONNECTING, t2)


# --- the restreamer without a network -------------------------------------------------------------


SOURCE = SourceInfo(640, 360, 30.0, VideoCodec.H264, has_audio=True, keyframe_interval=1.0)


def _session(state: SessionState) -> Session:
    now = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
    return Session(
        id="ses_x", studio_id="std_x", title="T", description="", speakers=(), language="sv",
        starts_at=now, ends_at=now, state=state, auto_start=False, auto_end=False,
        created_at=now, updated_at=now,
    )  # fmt: skip


async def until(check: object, seconds: float = 10) -> None:
    """Wait until ``check()`` holds."""
    assert callable(check)
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_pushes_follow_the_session_and_give_up_when_ffmpeg_cannot_run() -> None:
    """No push while the session is not live; once live, each enabled destination is tried,
    retried and marked failed with the reason; removed destinations stop; close stops all."""
    live = {"on": False}
    targets = [Target("rst_a", YOUTUBE), Target("rst_b", FACEBOOK)]

    async def load(session_id: str) -> tuple[bool, list[Target]]:
        assert session_id == "ses_x"
        return live["on"], list(targets) if live["on"] else []

    config = RestreamConfig(
        ffmpeg="/nonexistent/ffmpeg",
        policy=RetryPolicy(delays=(0.01, 0.02), max_failures=3),
    )
    restreamer = Restreamer(load, config)
    tap = restreamer(_session(SessionState.READY), SOURCE, [SCRIPT, VIDEO_CONFIG, AUDIO_CONFIG])
    await restreamer.sync("ses_x")
    assert tap.pushers == {}
    assert restreamer.status("rst_a") is None

    live["on"] = True
    await restreamer.session_changed(_session(SessionState.LIVE))
    assert set(tap.pushers) == {"rst_a", "rst_b"}
    tap.tag(keyframe(0))  # never blocks, even with nothing running

    def both_failed() -> bool:
        states = [restreamer.status(i) for i in ("rst_a", "rst_b")]
        return all(s is not None and s.state is RestreamState.FAILED for s in states)

    await until(both_failed)
    status = restreamer.status("rst_a")
    assert status is not None
    assert status.attempts == 3
    assert status.last_error is not None
    assert status.last_error.startswith("cannot start ffmpeg: ")
    assert restreamer.counts()[RestreamState.FAILED] == 2

    await restreamer.sync("ses_x")  # a failed push is not started again by itself
    assert restreamer.status("rst_a") is status
    await restreamer.sync("ses_x", rearm={"rst_a"})  # ...but when an operator re-enables it
    assert restreamer.status("rst_a") is not status

    targets.pop(0)
    await restreamer.sync("ses_x")
    assert set(tap.pushers) == {"rst_b"}
    await tap.close()
    assert tap.pushers == {}
    await restreamer.sync("ses_x")  # no tap any more: nothing happens
    await restreamer.close()


FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg not installed")


@needs_ffmpeg
async def test_a_push_that_never_goes_live_times_out_and_stopping_ends_ffmpeg() -> None:
    """A real ffmpeg that never gets going counts as a failure after the connect timeout (and
    is killed); stopping a push while its ffmpeg runs ends that process and marks it stopped."""
    assert FFMPEG is not None
    live = {"targets": [Target("rst_t", YOUTUBE)]}

    async def load(session_id: str) -> tuple[bool, list[Target]]:
        return True, list(live["targets"])

    config = RestreamConfig(
        ffmpeg=FFMPEG, connect_timeout=0.5, policy=RetryPolicy(delays=(0.05,), max_failures=2)
    )
    restreamer = Restreamer(load, config)
    tap = restreamer(_session(SessionState.LIVE), SOURCE, [VIDEO_CONFIG, AUDIO_CONFIG])
    await restreamer.sync("ses_x")

    def gave_up() -> bool:
        status = restreamer.status("rst_t")
        return status is not None and status.state is RestreamState.FAILED

    await until(gave_up)
    status = restreamer.status("rst_t")
    assert status is not None
    assert (status.attempts, status.last_error) == (2, "no connection within 0.5 s")

    restreamer.config = RestreamConfig(ffmpeg=FFMPEG, connect_timeout=60)
    await restreamer.sync("ses_x", rearm={"rst_t"})
    pusher = tap.pushers["rst_t"]

    def running() -> bool:
        return pusher.pid is not None

    await until(running)
    pid = pusher.pid
    assert pid is not None
    await tap.close()
    assert pusher.pid is None
    status = restreamer.status("rst_t")
    assert status is not None
    assert status.state is RestreamState.STOPPED
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: the process is gone
    await restreamer.close()


def test_a_push_is_given_up_when_it_never_connects_or_stops_sending() -> None:
    """Not live 20 s after ffmpeg started, or live but nothing sent for 30 s: stuck."""
    status = DestinationStatus(state=RestreamState.CONNECTING)
    pusher = Pusher("ses_x", Target("rst_s", YOUTUBE), SOURCE, [], RestreamConfig(), status)
    assert pusher.stuck(119.9, started=100.0) is None
    assert pusher.stuck(120.0, started=100.0) == "no connection within 20 s"
    status.move(RestreamState.LIVE, datetime(2026, 5, 20, 7, 0, tzinfo=UTC))
    pusher.progress_at = 130.0
    assert pusher.stuck(159.9, started=100.0) is None
    assert pusher.stuck(160.0, started=100.0) == "nothing sent for 30 s"
