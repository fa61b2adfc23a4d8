"""A studio's channel: what it has on air now, what comes next, what playout may play. Pure.

Every studio has one permanent channel (``/c/{studio}``). While one of its sessions is live the
channel shows it; between sessions it shows the next session's card and, if the studio turns
playout on, plays the earlier sessions' replays in order. ``channel_now`` decides that from the
studio's sessions and the time alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from studio.models import Session
from studio.states import SessionState

_UPCOMING = frozenset({SessionState.SCHEDULED, SessionState.READY})


@dataclass(frozen=True, slots=True)
class ChannelNow:
    """The channel at one instant: the session on air (None between sessions), the next one
    planned, and the replays playout may play (oldest first)."""

    on_air: Session | None
    next_up: Session | None
    replays: tuple[Session, ...]

    @property
    def room(self) -> str | None:
        """The realtime room the channel's chat, questions and viewer count follow now."""
        return None if self.on_air is None else self.on_air.id


def channel_now(sessions: Iterable[Session], now: datetime) -> ChannelNow:
    """What a studio's channel shows at ``now``, given the studio's sessions.

    On air: the live session (of two, the one that went live last). Next up: the earliest
    planned session (scheduled or ready) whose slot is not over. Replays: the sessions whose
    replay is published, in programme order.
    """
    live = [s for s in sessions if s.state is SessionState.LIVE]
    on_air = max(live, key=lambda s: (s.went_live_at or s.starts_at, s.id), default=None)
    upcoming = [s for s in sessions if s.state in _UPCOMING and s.ends_at > now]
    next_up = min(upcoming, key=lambda s: (s.starts_at, s.id), default=None)
    replays = sorted(
        (s for s in sessions if s.state is SessionState.REPLAY), key=lambda s: (s.starts_at, s.id)
    )
    return ChannelNow(on_air=on_air, next_up=next_up, replays=tuple(replays))


def channel_changed(before: ChannelNow | None, after: ChannelNow) -> bool:
    """Whether the channel's viewers must be told: the session on air or the next one changed."""
    if before is None:
        return True
    return _id(before.on_air) != _id(after.on_air) or _id(before.next_up) != _id(after.next_up)


def _id(session: Session | None) -> str | None:
    return None if session is None else session.id
