"""What a session's playlists carry, and the ingest held back while a slate is on air. Pure.

``on_air(state, ingest_up, slate)`` is the one decision the media plane follows whenever a
session's state or its ingest changes (the table is in ``docs/architecture.md``, "Slates and
recordings"); ``GopBuffer`` keeps the tags since the latest keyframe while "starting soon" is on.
"""

from __future__ import annotations

from streaming.flv import FlvTag, StreamHeads, TagType
from streaming.vocab import OnAir
from studio.states import SessionState

_OVER = frozenset({SessionState.ENDED, SessionState.REPLAY, SessionState.CANCELLED})
DEFAULT_HOLD_BYTES = 16 * 1024 * 1024


def on_air(state: SessionState, ingest_up: bool, *, slate: bool = True) -> OnAir:
    """What the session's playlists should carry now (see the table in the module docstring)."""
    if state in _OVER:
        return OnAir.OFF
    if state is SessionState.LIVE:
        if ingest_up:
            return OnAir.INGEST
        return OnAir.BE_RIGHT_BACK if slate else OnAir.SILENT
    if not ingest_up:
        return OnAir.OFF
    return OnAir.STARTING_SOON if slate else OnAir.INGEST


class GopBuffer:
    """The latest script and codec configuration tags, and every tag since the last keyframe.

    A group of pictures larger than ``max_bytes`` is dropped (the buffer then waits for the
    next keyframe), so a source with rare keyframes cannot make it grow without bound.
    """

    def __init__(self, max_bytes: int = DEFAULT_HOLD_BYTES) -> None:
        self.max_bytes = max_bytes
        self._heads = StreamHeads()
        self._gop: list[FlvTag] = []
        self._bytes = 0

    @property
    def size(self) -> int:
        """Bytes of media held (configurations not counted)."""
        return self._bytes

    def push(self, tag: FlvTag) -> None:
        """Hold ``tag``: a configuration replaces the previous one, a keyframe starts over."""
        if self._heads.remember(tag):
            return
        if tag.kind is TagType.VIDEO and tag.is_keyframe:
            self._gop = [tag]
            self._bytes = len(tag.payload)
        elif self._gop:
            if self._bytes + len(tag.payload) > self.max_bytes:
                self._gop, self._bytes = [], 0
            else:
                self._gop.append(tag)
                self._bytes += len(tag.payload)

    def take(self) -> list[FlvTag]:
        """The held tags in feeding order (configurations, then the GOP); the buffer empties."""
        tags = self._heads.tags() + self._gop
        self._gop, self._bytes = [], 0
        return tags
