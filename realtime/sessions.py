"""The sessions that joins read, kept per node (``SessionCache``): a room's join needs its
session (does it exist, which studio decides who moderates it, does Q&A approve by itself),
and a storm of joins (a dead node's viewers arriving at once) must not read it once each.

An entry lives until the session changes: a change made on this node drops it at once (a
programme listener), one made on any node drops it when the event room's ``SessionChanged``
fact arrives (``on_event``), and every entry is dropped when the engine comes back after an
outage (facts may have been missed). ``TTL_S`` bounds an entry's life for changes that reach
no listener (an import, a deletion). Concurrent misses of one session share one read, and a
read that a change overtook is not kept. See docs/architecture.md ("Realtime", joins).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import msgspec

from studio.errors import NotFound
from studio.interaction.facts import SessionChanged, decode_fact
from studio.models import Session

TTL_S = 15.0
MAX_ENTRIES = 10_000

Load = Callable[[str], Awaitable[Session]]


@dataclass(frozen=True, slots=True)
class _Entry:
    session: Session | None  # None: the store said it does not exist
    until: float


class SessionCache:
    """Sessions by id, read once per change (see the module docstring)."""

    def __init__(
        self, load: Load, *, ttl: float = TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._reading: dict[str, asyncio.Future[Session | None]] = {}
        self._generation: dict[str, int] = {}  # bumped by each change: older reads are dropped
        self.reads = 0  # store reads made (for tests and the benchmark)

    async def get(self, session_id: str) -> Session:
        """The session (``NotFound`` when it does not exist)."""
        entry = self._entries.get(session_id)
        if entry is not None and entry.until > self._clock():
            return _found(session_id, entry.session)
        reading = self._reading.get(session_id)
        if reading is None:
            generation = self._generation.get(session_id, 0)
            reading = asyncio.ensure_future(self._read(session_id, generation))
            self._reading[session_id] = reading
            reading.add_done_callback(lambda done: self._done(session_id, done))
        return _found(session_id, await asyncio.shield(reading))

    async def _read(self, session_id: str, generation: int) -> Session | None:
        self.reads += 1
        try:
            session: Session | None = await self._load(session_id)
        except NotFound:
            session = None
        if self._generation.get(session_id, 0) == generation:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[session_id] = _Entry(session, self._clock() + self._ttl)
        return session

    def _done(self, session_id: str, reading: asyncio.Future[Session | None]) -> None:
        if self._reading.get(session_id) is reading:
            del self._reading[session_id]

    def holds(self, session_id: str) -> bool:
        """Whether a join of the session would be answered without reading the store."""
        entry = self._entries.get(session_id)
        return entry is not None and entry.until > self._clock()

    def forget(self, session_id: str) -> None:
        """The session changed: the next join reads it again (a read under way is left to
        the joins that asked before the change)."""
        self._entries.pop(session_id, None)
        self._reading.pop(session_id, None)
        self._generation[session_id] = self._generation.get(session_id, 0) + 1
        if len(self._generation) > MAX_ENTRIES:
            self._generation = {session_id: self._generation[session_id]}

    def clear(self) -> None:
        """Forget every session (changes may have been missed), reads under way included."""
        for session_id in list(self._entries) + list(self._reading):
            self.forget(session_id)

    async def changed(self, session: Session) -> None:
        """A programme listener: a session changed on this node."""
        self.forget(session.id)

    def on_event(self, event_id: str, data: bytes) -> None:
        """A listener of the event room: a session changed on some node."""
        try:
            fact = decode_fact(data)
        except msgspec.MsgspecError:
            return
        if isinstance(fact, SessionChanged):
            self.forget(fact.session_id)

    def on_status(self, up: bool) -> None:
        """The engine's state: back after an outage, facts may have been missed."""
        if up:
            self.clear()


def _found(session_id: str, session: Session | None) -> Session:
    if session is None:
        raise NotFound("session", session_id)
    return session
