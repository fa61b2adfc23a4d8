"""The restreamer follows the session; pushes fail, retry, give up and stop (no network)."""

from __future__ import annotations

from streaming.restream.pusher import RestreamConfig, Target
from streaming.restream.restreamer import Restreamer
from streaming.restream.retry import RetryPolicy
from streaming.vocab import RestreamState
from studio.states import SessionState
from tests.support.flv_tags import AUDIO_CONFIG, SCRIPT, VIDEO_CONFIG, keyframe
from tests.support.restream import FACEBOOK, SOURCE, YOUTUBE, restreamed_session
from tests.support.waiting import until


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
    tap = restreamer(
        restreamed_session(SessionState.READY), SOURCE, [SCRIPT, VIDEO_CONFIG, AUDIO_CONFIG]
    )
    await restreamer.sync("ses_x")
    assert tap.pushers == {}
    assert restreamer.status("rst_a") is None

    live["on"] = True
    await restreamer.session_changed(restreamed_session(SessionState.LIVE))
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
