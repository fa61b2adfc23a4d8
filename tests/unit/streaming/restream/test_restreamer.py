"""The restreamer follows the session; pushes fail, retry, give up and stop (no network)."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

import pytest

from streaming.restream.pusher import RestreamConfig, Target
from streaming.restream.restreamer import Restreamer
from streaming.restream.retry import RetryPolicy
from streaming.vocab import RestreamState
from studio.models import Session
from studio.states import SessionState
from tests.support.flv_tags import AUDIO_CONFIG, SCRIPT, VIDEO_CONFIG, keyframe
from tests.support.restream import FACEBOOK, SOURCE, YOUTUBE
from tests.support.waiting import until


def _session(state: SessionState) -> Session:
    now = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
    return Session(
        id="ses_x", studio_id="std_x", title="T", description="", speakers=(), language="sv",
        starts_at=now, ends_at=now, state=state, auto_start=False, auto_end=False,
        created_at=now, updated_at=now,
    )  # fmt: skip


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

    await until(both_failed, timeout=10, what="both pushes to fail", interval=0.02)
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

    await until(gave_up, timeout=10, what="the push to give up", interval=0.02)
    status = restreamer.status("rst_t")
    assert status is not None
    assert (status.attempts, status.last_error) == (2, "no connection within 0.5 s")

    restreamer.config = RestreamConfig(ffmpeg=FFMPEG, connect_timeout=60)
    await restreamer.sync("ses_x", rearm={"rst_t"})
    pusher = tap.pushers["rst_t"]

    def running() -> bool:
        return pusher.pid is not None

    await until(running, timeout=10, what="the push's ffmpeg to run", interval=0.02)
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
