"""One destination's push: its status, when it is stuck."""

from __future__ import annotations

from datetime import UTC, datetime

from streaming.restream.pusher import DestinationStatus, Pusher, RestreamConfig, Target
from streaming.vocab import RestreamState
from tests.support.restream import SOURCE, YOUTUBE


def test_a_status_moves_its_since_only_on_a_change() -> None:
    """``since`` says since when a destination is in its state."""
    t1 = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
    t2 = datetime(2026, 5, 20, 7, 1, tzinfo=UTC)
    status = DestinationStatus(since=t1)
    status.move(RestreamState.IDLE, t2)
    assert status.since == t1
    status.move(RestreamState.CONNECTING, t2)
    assert (status.state, status.since) == (RestreamState.CONNECTING, t2)


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
