"""A room's outgoing events and how far each member has been sent them: the fan-out's decisions.

Pure: no sockets. Each member has a cursor (the last event it was sent); ``out`` gives the one
frame that brings it up to now, encoded once per group of members that lack the same events.
See docs/architecture.md, "Realtime" (Fan-out at 10 000+ clients).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

from studio.interaction.room import Emit, Event


class Member(Hashable, Protocol):
    """What the feed needs to know of a member."""

    @property
    def viewer_id(self) -> str: ...

    def is_staff(self, room: str) -> bool: ...


Encode = Callable[[object], bytes]
M = TypeVar("M", bound=Member)


class RoomFeed(Generic[M]):
    """One room's sequence of emits, the latest viewer count (the room's staff get their own
    form of it, with the staff count), and every member's cursor."""

    def __init__(self, room: str, encode: Encode) -> None:
        self.room = room
        self._encode = encode
        self.head = 0  # sequence number of the newest emit or count
        self.cursors: dict[M, int] = {}
        self._seqs: list[int] = []  # of the kept emits, increasing
        self._emits: list[Emit] = []
        self._restricted = 0  # sequence number of the newest staff-only emit
        self._count_seq = 0
        self._count = b""
        self._staff_count = b""  # the count as the room's staff get it; empty: the same
        self._swept = 0  # head when the latest sweep began
        self._frames: dict[int, bytes] = {}  # cursor -> public frame up to head

    # --- what comes in --------------------------------------------------------------------

    def add(self, emits: list[Emit]) -> None:
        """Queue folded events, in order."""
        for emit in emits:
            self.head += 1
            self._seqs.append(self.head)
            self._emits.append(emit)
            if not emit.uniform:
                self._restricted = self.head
        if emits:
            self._frames.clear()

    def set_count(self, count_frame: bytes, staff_frame: bytes = b"") -> None:
        """Replace the viewer count members are sent (only the latest is ever sent); the
        room's staff get ``staff_frame`` instead when there is one."""
        self.head += 1
        self._count_seq, self._count, self._staff_count = self.head, count_frame, staff_frame
        self._frames.clear()

    def join(self, member: M) -> None:
        """Add a member whose history covers every event so far: it gets only later ones."""
        self.cursors[member] = self.head

    def leave(self, member: M) -> None:
        """Forget a member (a sweep under way skips it)."""
        self.cursors.pop(member, None)

    # --- sweeps ----------------------------------------------------------------------------

    @property
    def due(self) -> bool:
        """Whether something arrived since the latest sweep began."""
        return self.head > self._swept

    @property
    def kept(self) -> int:
        """How many emits are kept for members that may still lack them."""
        return len(self._emits)

    def begin(self) -> list[M]:
        """Start a sweep: the members to write, in order."""
        self._swept = self.head
        return list(self.cursors)

    def end(self) -> None:
        """Finish a sweep: every member is now at least where it began, so older emits go."""
        keep = bisect.bisect_right(self._seqs, self._swept)
        if keep:
            del self._seqs[:keep], self._emits[:keep]

    def out(self, member: M) -> bytes:
        """The frame that brings ``member`` up to now (empty if it is), moving its cursor."""
        cursor = self.cursors.get(member)
        if cursor is None or cursor >= self.head:
            return b""
        self.cursors[member] = self.head
        counted_for_staff = (
            self._staff_count and self._count_seq > cursor and member.is_staff(self.room)
        )
        if cursor >= self._restricted and not counted_for_staff:  # public only: a shared frame
            data = self._frames.get(cursor)
            if data is None:
                events = [e.event for e in self._since(cursor)]
                data = self._frames[cursor] = self._frame(events, cursor)
            return data
        staff = member.is_staff(self.room)
        viewer = member.viewer_id
        events = [
            e.event_for(staff=staff) for e in self._since(cursor)
            if e.visible_to(viewer, staff=staff)
        ]  # fmt: skip
        return self._frame(events, cursor, staff=staff)

    def _since(self, cursor: int) -> list[Emit]:
        return self._emits[bisect.bisect_right(self._seqs, cursor) :]

    def _frame(self, events: list[Event], cursor: int, *, staff: bool = False) -> bytes:
        batch = (
            self._encode({"type": "events", "room": self.room, "events": events}) if events else b""
        )
        if self._count_seq <= cursor:
            return batch
        return batch + (self._staff_count if staff and self._staff_count else self._count)
