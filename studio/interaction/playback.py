"""Viewers without a websocket: who is watching a session's video right now. Pure.

HLS viewers are *seen* (each request is a sighting; present a couple of target durations after
the last), WebRTC viewers are *held* (from ``joined`` to ``left``). Identity: a viewer pass,
else a valid ``?v=`` id (at most ``MAX_PER_ADDRESS`` per hashed address and session), else a
keyed hash of address and User-Agent; raw addresses are never kept. The caller passes the time.
See docs/architecture.md, "Realtime" (Video viewers without a websocket).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass, field

EXPIRY_TARGETS = 2.0  # a viewer is gone this many target durations after their last request
MIN_EXPIRY_S = 3.0  # ... but never sooner than this (a player stalls a moment now and then)
MAX_PER_ADDRESS = 100  # distinct ``v`` ids one address may count as, per session
MAX_PER_SESSION = 100_000  # identities tracked per session at most
SWEEP_EVERY_S = 1.0  # expired identities are removed on a request's path at most this often
VIEWER_QUERY = re.compile(r"^[A-Za-z0-9_-]{4,64}$")


def valid_viewer_query(value: str | None) -> str | None:
    """``value`` if it can be a viewer id given in ``?v=`` (letters, digits, ``_``, ``-``)."""
    if value is None or not VIEWER_QUERY.match(value):
        return None
    return value


def client_address(peer: str | None, forwarded_for: str | None) -> str:
    """The viewer's address: the peer's, or, when the peer is a proxy on a private or loopback
    address (nginx in front of the nodes), the last ``X-Forwarded-For`` entry, the address that
    proxy saw (a client can prepend entries, never append them)."""
    if not peer:
        return "unknown"
    try:
        via_proxy = ipaddress.ip_address(peer).is_private
    except ValueError:
        return peer
    if via_proxy and forwarded_for:
        last = forwarded_for.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return peer


@dataclass(frozen=True)
class Sighting:
    """One playback request, reduced to what counting needs.

    ``viewer_id`` is the identity the request claims (``verified`` when a viewer pass proves
    it); ``fallback_id`` the identity of its (hashed) address and User-Agent; ``address`` the
    hashed address alone.
    """

    viewer_id: str
    fallback_id: str
    address: str
    verified: bool = False


def viewer_identity(
    pass_viewer: str | None, query_viewer: str | None, fallback_id: str, address: str
) -> Sighting:
    """The sighting of a request: the pass's viewer, else a valid ``v``, else the fallback."""
    viewer = pass_viewer or valid_viewer_query(query_viewer) or fallback_id
    return Sighting(viewer, fallback_id, address, verified=pass_viewer is not None)


@dataclass
class _Seen:
    until: float
    address: str
    claimed: bool  # counted under a ``v`` id (which the per-address cap limits)


@dataclass
class _Session:
    seen: dict[str, _Seen] = field(default_factory=dict)
    claims: Counter[str] = field(default_factory=Counter)  # address -> present ``v`` ids
    held: Counter[str] = field(default_factory=Counter)  # viewer -> open WebRTC connections
    swept: float = float("-inf")  # when expired identities were last removed


class PlaybackTracker:
    """Present HLS and WebRTC viewers per session."""

    def __init__(
        self,
        *,
        expiry_targets: float = EXPIRY_TARGETS,
        min_expiry_s: float = MIN_EXPIRY_S,
        max_per_address: int = MAX_PER_ADDRESS,
        max_per_session: int = MAX_PER_SESSION,
    ) -> None:
        self.expiry_targets = expiry_targets
        self.min_expiry_s = min_expiry_s
        self.max_per_address = max_per_address
        self.max_per_session = max_per_session
        self._sessions: dict[str, _Session] = {}

    def expiry(self, target_duration: float) -> float:
        """Seconds a viewer stays present after a request, for this target duration."""
        return max(self.expiry_targets * target_duration, self.min_expiry_s)

    def saw(
        self, session_id: str, sighting: Sighting, now: float, target_duration: float
    ) -> str | None:
        """Note a playback request; return the identity it counted as (None: session full)."""
        session = self._sessions.setdefault(session_id, _Session())
        until = now + self.expiry(target_duration)
        viewer = sighting.viewer_id
        entry = session.seen.get(viewer)
        if entry is not None and entry.until > now:
            entry.until = until
            return viewer
        claimed = not sighting.verified and viewer != sighting.fallback_id
        if claimed and session.claims[sighting.address] >= self.max_per_address:
            self._sweep_now_and_then(session, now)  # expired ids free their places first
        if claimed and session.claims[sighting.address] >= self.max_per_address:
            viewer, claimed = sighting.fallback_id, False
            entry = session.seen.get(viewer)
            if entry is not None and entry.until > now:
                entry.until = until
                return viewer
        if entry is not None:  # expired but not swept yet: it starts over
            self._forget(session, viewer)
        if len(session.seen) >= self.max_per_session:
            self._sweep_now_and_then(session, now)
            if len(session.seen) >= self.max_per_session:
                return None
        session.seen[viewer] = _Seen(until, sighting.address, claimed)
        if claimed:
            session.claims[sighting.address] += 1
        return viewer

    def joined(self, session_id: str, viewer_id: str) -> None:
        """A WebRTC viewer's connection is up: present until the matching ``left``."""
        self._sessions.setdefault(session_id, _Session()).held[viewer_id] += 1

    def left(self, session_id: str, viewer_id: str) -> None:
        """A WebRTC viewer's connection ended (an unknown one is ignored)."""
        session = self._sessions.get(session_id)
        if session is None or session.held[viewer_id] <= 0:
            return
        session.held[viewer_id] -= 1
        if session.held[viewer_id] <= 0:
            del session.held[viewer_id]

    def present(self, session_id: str, now: float) -> set[str]:
        """The identities watching ``session_id`` at ``now`` (HLS and WebRTC, each once)."""
        session = self._sessions.get(session_id)
        if session is None:
            return set()
        self._sweep(session, now)
        return set(session.seen) | {v for v, n in session.held.items() if n > 0}

    def watching(self, now: float) -> dict[str, set[str]]:
        """Every session someone watches at ``now``, with its present identities.

        Sessions nobody watches any more are forgotten.
        """
        result: dict[str, set[str]] = {}
        for session_id in list(self._sessions):
            viewers = self.present(session_id, now)
            if viewers:
                result[session_id] = viewers
            elif not self._sessions[session_id].held:
                del self._sessions[session_id]
        return result

    def _sweep_now_and_then(self, session: _Session, now: float) -> None:
        """Sweep on a request's path at most once a second (a flood must not sweep each time)."""
        if now - session.swept >= SWEEP_EVERY_S:
            self._sweep(session, now)

    def _sweep(self, session: _Session, now: float) -> None:
        session.swept = now
        for viewer in [v for v, e in session.seen.items() if e.until <= now]:
            self._forget(session, viewer)

    @staticmethod
    def _forget(session: _Session, viewer: str) -> None:
        entry = session.seen.pop(viewer)
        if entry.claimed:
            session.claims[entry.address] -= 1
            if session.claims[entry.address] <= 0:
                del session.claims[entry.address]
