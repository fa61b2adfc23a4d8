"""Encoded media of live sessions, handed once to every WebRTC viewer (WHEP) of the session.

A ``SessionRelay`` takes already encoded media from whatever ingest the session has and fans
it out without decoding or encoding per viewer:

- video: one H.264 access unit at a time, Annex-B, with SPS/PPS in front of every IDR frame,
  timestamps on a 90 kHz clock (``publish_video``);
- audio: one Opus packet (20 ms at 48 kHz) at a time, timestamps on a 48 kHz clock
  (``publish_audio``).

The WHIP ingest publishes what the browser sent as it arrives; an RTMP ingest is turned into
the same once per session. Viewers ask for keyframes through ``request_keyframe``; the relay
coalesces those requests before they reach the publisher's ``keyframe_requester``.

``RelayHub`` keeps one relay per live session on this node (``MediaPlane.relays``).

This module is the contract between the ingests and WHEP playback; the WHEP side owns it.
"""

from __future__ import annotations

from collections.abc import Callable


class SessionRelay:
    """One session's encoded media (see the module docstring)."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self._keyframe_requester: Callable[[], None] | None = None

    def publish_video(self, data: bytes, pts: int, keyframe: bool) -> None:
        """One H.264 access unit (Annex-B; SPS/PPS before each IDR), ``pts`` at 90 kHz."""

    def publish_audio(self, data: bytes, pts: int) -> None:
        """One Opus packet, ``pts`` at 48 kHz."""

    def set_keyframe_requester(self, request: Callable[[], None] | None) -> None:
        """How to ask the current publisher for a keyframe (None: no publisher)."""
        self._keyframe_requester = request

    def request_keyframe(self) -> None:
        """A viewer needs a keyframe; the publisher hears at most one request per interval."""
        if self._keyframe_requester is not None:
            self._keyframe_requester()

    def source_ended(self) -> None:
        """The publisher is gone; viewers stay connected and wait for the next one."""


class RelayHub:
    """The relays of the sessions live on this node."""

    def __init__(self) -> None:
        self._relays: dict[str, SessionRelay] = {}

    def relay(self, session_id: str) -> SessionRelay:
        """The session's relay, made on first use."""
        found = self._relays.get(session_id)
        if found is None:
            found = self._relays[session_id] = SessionRelay(session_id)
        return found

    def get(self, session_id: str) -> SessionRelay | None:
        """The session's relay, if it has one."""
        return self._relays.get(session_id)

    def drop(self, session_id: str) -> None:
        """Forget the session's relay (its session is over)."""
        self._relays.pop(session_id, None)
