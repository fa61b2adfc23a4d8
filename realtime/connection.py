"""One viewer's websocket: identity, joined rooms, rate limits, and writes that never wait.

A viewer whose unsent bytes pile up past the limit is disconnected (it resumes later) instead of
slowing anyone else down. See docs/architecture.md, "Realtime" (Audiences, fan-out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from realtime.frames import CLOSE_GOING_AWAY, CLOSE_OVERLOADED, PING_FRAME
from realtime.link import Link
from studio.interaction.ratelimit import TokenBucket


@dataclass(eq=False, slots=True)
class Connection:
    """A connected client (slotted: a node holds tens of thousands of these)."""

    link: Link
    viewer_id: str
    name: str
    address: str
    buffer_limit: int
    principal_id: str | None = None
    rooms: set[str] = field(default_factory=set)
    frames: TokenBucket | None = None  # every frame it sends (made by Actions on the first)
    strikes: int = 0  # frames refused for flooding
    gated: bool = False  # the event asks for an access code: its first frame must be a pass
    dropped: bool = False
    alive: bool = True  # heard from since the last ping round
    _staff: set[str] | None = None
    _hall: set[str] | None = None  # rooms joined through the hall's join code

    @property
    def staff_rooms(self) -> set[str]:
        """The rooms this client moderates (made on first use: most clients moderate none)."""
        if self._staff is None:
            self._staff = set()
        return self._staff

    def send(self, frame: bytes) -> bool:
        """Write a ready frame without waiting; drop the client if it cannot keep up."""
        if not self.ready():
            return False
        self.link.write(frame)
        return True

    def ready(self) -> bool:
        """Whether frames may be written to this client now (dropping it if it cannot keep up:
        its unsent bytes passed the limit). Event loop only."""
        link = self.link
        if self.dropped or link.is_closing():
            return False
        if link.backlog_bytes > self.buffer_limit:
            self.drop(CLOSE_OVERLOADED, "too slow; reconnect and resume")
            return False
        return True

    def drop(self, code: int, reason: str) -> None:
        """Close the connection from outside its reader (it resumes later)."""
        if self.dropped:
            return
        self.dropped = True
        self.link.close(code, reason)

    def shut_down(self) -> None:
        """Say goodbye: the server is stopping. A connection closed already but still waiting
        for the client's answer is cut now (its timer would not outlive the event loop)."""
        if self.dropped:
            self.link.abort()
            return
        self.drop(CLOSE_GOING_AWAY, "server shutting down")

    def ping(self) -> None:
        """One round of the shared heartbeat: abort a client that did not answer the last
        ping (nor send anything since), else ping it."""
        if self.dropped or self.link.is_closing():
            return
        if not self.alive:
            self.dropped = True
            self.link.abort()  # a dead peer answers no close handshake either
            return
        self.alive = False
        self.send(PING_FRAME)

    def join_from_hall(self, room: str) -> None:
        """Count what this client does in ``room`` as the hall's."""
        if self._hall is None:
            self._hall = set()
        self._hall.add(room)

    def in_hall(self, room: str) -> bool:
        """Whether this client joined ``room`` through the hall's join code."""
        return self._hall is not None and room in self._hall

    def is_staff(self, room: str) -> bool:
        """Whether this client moderates ``room``."""
        return self._staff is not None and room in self._staff

    def leave(self, room: str) -> None:
        """Forget ``room`` (and moderating it)."""
        self.rooms.discard(room)
        if self._staff is not None:
            self._staff.discard(room)
        if self._hall is not None:
            self._hall.discard(room)
