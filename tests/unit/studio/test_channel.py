"""What a studio's channel has on air and next, decided from its sessions and the time alone."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from studio.channel import channel_changed, channel_now
from studio.models import Session
from studio.states import SessionState
from tests.support.harness import T0
from tests.support.programme import a_session

HOUR = timedelta(hours=1)


def session(state: SessionState, **changes: object) -> Session:
    """A 09:00-09:45 session of one studio in ``state``."""
    return msgspec.structs.replace(a_session("std_1", state=state), **changes)


def test_the_live_session_is_on_air_and_the_next_planned_one_is_next_up() -> None:
    """A live session is on air (its room is the channel's); the earliest later slot is next."""
    live = session(SessionState.LIVE, id="ses_live")
    later = session(
        SessionState.SCHEDULED, id="ses_b", starts_at=T0 + 2 * HOUR, ends_at=T0 + 3 * HOUR
    )
    soon = session(SessionState.READY, id="ses_a", starts_at=T0 + HOUR, ends_at=T0 + 2 * HOUR)
    now = channel_now([later, live, soon], T0 + timedelta(minutes=10))
    assert now.on_air == live
    assert now.room == "ses_live"
    assert now.next_up == soon


def test_between_sessions_nothing_is_on_air_and_replays_come_in_programme_order() -> None:
    """No live session: no room; replays oldest first; over or cancelled slots are not next."""
    first = session(SessionState.REPLAY, id="ses_1", starts_at=T0 - 3 * HOUR, ends_at=T0 - 2 * HOUR)
    second = session(SessionState.REPLAY, id="ses_2", starts_at=T0 - 2 * HOUR, ends_at=T0 - HOUR)
    missed = session(SessionState.SCHEDULED, id="ses_m", starts_at=T0 - HOUR, ends_at=T0)
    cancelled = session(
        SessionState.CANCELLED, id="ses_c", starts_at=T0 + HOUR, ends_at=T0 + 2 * HOUR
    )
    now = channel_now([second, missed, cancelled, first], T0)
    assert (now.on_air, now.room, now.next_up) == (None, None, None)
    assert [s.id for s in now.replays] == ["ses_1", "ses_2"]


def test_of_two_live_sessions_the_one_that_went_live_last_is_on_air() -> None:
    """An overrun: the session that went live later has the channel."""
    early = session(SessionState.LIVE, id="ses_early", went_live_at=T0)
    late = session(SessionState.LIVE, id="ses_late", went_live_at=T0 + timedelta(minutes=40))
    assert channel_now([late, early], T0 + HOUR).on_air == late


def test_viewers_are_told_only_when_on_air_or_next_up_changes() -> None:
    """A change of the session on air or of the next one is announced; the same picture is not."""
    live = session(SessionState.LIVE, id="ses_live")
    before = channel_now([live], T0)
    assert channel_changed(None, before)
    assert not channel_changed(before, channel_now([live], T0 + timedelta(minutes=5)))
    ended = session(SessionState.ENDED, id="ses_live")
    assert channel_changed(before, channel_now([ended], T0 + HOUR))
