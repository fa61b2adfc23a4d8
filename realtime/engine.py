"""Realtime engines: an ordered, durable log per room, live delivery to nodes, and presence.

    Engine                 the interface the hub uses
    ├── MemoryEngine       one node: log in memory, made durable in the store (group commit)
    └── RedisEngine        many nodes: Redis Streams (log), pub/sub (live), sorted sets (presence)

Back-end errors become ``realtime.errors.EngineUnavailable`` where they cross in. See
docs/architecture.md, "Realtime" (Engines, Ingest).
"""

from __future__ import annotations

import abc
import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

from realtime.errors import EngineUnavailable
from studio.errors import StudioError
from studio.interaction.facts import SEQ_MAX, log_id, log_position, normal_log_id
from studio.store import Store

log = logging.getLogger(__name__)
Entry = tuple[str, bytes]
T = TypeVar("T")
EntryListener = Callable[[str, str, bytes], None]
StatusListener = Callable[[bool], None]


def now_ms() -> int:
    """Wall-clock time in milliseconds (log ids and presence expiry use it)."""
    return int(time.time() * 1000)


class Engine(abc.ABC):
    """What the hub needs from an engine."""

    #: appends made one after another (without awaiting each) get increasing ids in call order,
    #: so a client's chat messages may be stored concurrently without reordering them
    ordered_appends = False

    def __init__(self) -> None:
        self._on_entry: EntryListener = lambda room, event_id, data: None
        self._on_status: StatusListener = lambda up: None

    async def start(self, on_entry: EntryListener, on_status: StatusListener) -> None:
        """Begin delivering followed rooms' new entries to ``on_entry``."""
        self._on_entry, self._on_status = on_entry, on_status

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop and release everything."""

    @abc.abstractmethod
    async def append(self, room: str, data: bytes) -> str:
        """Append durably; return the entry's id (``facts.log_id``: sorts as a string in log
        order)."""

    @abc.abstractmethod
    async def read(self, room: str) -> list[Entry]:
        """The room's whole log, in order."""

    @abc.abstractmethod
    async def follow(self, room: str) -> None:
        """Deliver this room's new entries (from any node) to the listener."""

    @abc.abstractmethod
    async def unfollow(self, room: str) -> None:
        """Stop delivering this room's entries."""

    @abc.abstractmethod
    async def touch_viewers(self, room: str, viewer_ids: Iterable[str], ttl_s: float) -> None:
        """Mark viewers present in ``room`` for ``ttl_s`` seconds."""

    @abc.abstractmethod
    async def count_viewers(self, room: str) -> int:
        """Viewers present in ``room`` across every node."""

    @abc.abstractmethod
    async def count_uniques(self, room: str, viewer_ids: Iterable[str]) -> int:
        """Add ``viewer_ids`` to the room's distinct viewers; return how many there were."""

    @abc.abstractmethod
    async def archive(self, room: str) -> None:
        """Copy the room's log into the store (an ended session's chat and Q&A)."""


class StoreThread:
    """A store connection of its own, on its own thread and event loop, for the room logs' group
    commits. A commit takes about ten turns of an event loop (driver round trips); on the
    node's loop each turn waits behind a slice of a 20 000-client fan-out, here none does, so
    acks and live delivery do not slow down with the audience."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="room-log-store", daemon=True
        )
        self._store: Store | None = None

    async def start(self) -> None:
        """Start the thread and open the store there."""
        self._thread.start()
        self._store = await self._call(Store.open(self._url))

    async def _call(self, work: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    async def append_room_facts(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        """``Store.append_room_facts`` on the thread."""
        assert self._store is not None
        await self._call(self._store.append_room_facts(rows))

    async def close(self) -> None:
        """Close the store, stop the loop and the thread."""
        if self._store is not None:
            await self._call(self._store.close())
            self._store = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join)
        self._loop.close()

    @staticmethod
    def usable(url: str | None) -> bool:
        """Whether a second connection sees the same database (not an in-memory SQLite)."""
        if not url:
            return False
        parsed = make_url(url)
        return parsed.get_backend_name() != "sqlite" or parsed.database not in (
            None,
            "",
            ":memory:",
        )


class MemoryEngine(Engine):
    """One node's engine: the log is kept in memory and written to the store before acking.

    With ``store_url`` (the store's own URL) the commits run on a ``StoreThread``; without it
    (or if that cannot start) on the caller's loop through ``store``."""

    ordered_appends = True  # ids are taken before the first await of ``append``

    def __init__(self, store: Store, *, store_url: str | None = None) -> None:
        super().__init__()
        self._store = store
        self._store_url = store_url
        self._writer: StoreThread | None = None
        self._logs: dict[str, list[Entry]] = {}
        self._loaded: dict[str, asyncio.Lock] = {}
        self._last: dict[str, tuple[int, int]] = {}
        self._following: set[str] = set()
        self._presence: dict[str, dict[str, float]] = {}
        self._uniques: dict[str, set[str]] = {}
        self._queue: list[tuple[str, str, bytes, asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def start(self, on_entry: EntryListener, on_status: StatusListener) -> None:
        await super().start(on_entry, on_status)
        if StoreThread.usable(self._store_url) and self._writer is None:
            assert self._store_url is not None
            writer = StoreThread(self._store_url)
            try:
                await writer.start()
            except Exception as exc:  # any failure: commit on this loop instead
                log.warning("room logs commit on the main loop: %s", type(exc).__name__)
                await writer.close()
                return
            self._writer = writer

    async def close(self) -> None:
        if self._flushing is not None:
            await self._flushing
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    async def _log(self, room: str) -> list[Entry]:
        lock = self._loaded.setdefault(room, asyncio.Lock())
        async with lock:
            if room not in self._logs:
                entries = [(normal_log_id(i), d) for i, d in await self._store.room_facts(room)]
                self._logs[room] = entries
                if entries:
                    self._last[room] = log_position(entries[-1][0])
        return self._logs[room]

    def _next_id(self, room: str) -> str:
        last_ms, last_seq = self._last.get(room, (0, -1))
        ms = now_ms()
        if ms > last_ms:
            nxt = (ms, 0)
        elif last_seq < SEQ_MAX:
            nxt = (last_ms, last_seq + 1)
        else:  # a million in one millisecond: borrow the next one (ids keep their width)
            nxt = (last_ms + 1, 0)
        self._last[room] = nxt
        return log_id(*nxt)

    async def append(self, room: str, data: bytes) -> str:
        await self._log(room)
        event_id = self._next_id(room)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((room, event_id, data, done))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        await done
        return event_id

    async def _flush(self) -> None:
        """Group commit: every append queued meanwhile goes into one transaction; once it is
        stored, each entry joins its room's log and goes live (even if its sender has gone)."""
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                rows = [(r, i, d) for r, i, d, _ in batch]
                await (self._writer or self._store).append_room_facts(rows)
            except StudioError as exc:
                for *_, done in batch:
                    if not done.done():  # its sender may have gone (cancelled) meanwhile
                        done.set_exception(EngineUnavailable(f"cannot store the message: {exc}"))
                continue
            for room, event_id, data, done in batch:
                self._logs[room].append((event_id, data))
                if room in self._following:
                    self._on_entry(room, event_id, data)
                if not done.done():
                    done.set_result(None)

    async def read(self, room: str) -> list[Entry]:
        return list(await self._log(room))

    async def follow(self, room: str) -> None:
        self._following.add(room)

    async def unfollow(self, room: str) -> None:
        self._following.discard(room)

    async def touch_viewers(self, room: str, viewer_ids: Iterable[str], ttl_s: float) -> None:
        until = time.monotonic() + ttl_s
        present = self._presence.setdefault(room, {})
        for viewer in viewer_ids:
            present[viewer] = until

    async def archive(self, room: str) -> None:
        """Nothing to do: this engine writes every fact to the store as it is appended."""

    async def count_uniques(self, room: str, viewer_ids: Iterable[str]) -> int:
        seen = self._uniques.setdefault(room, set())
        seen.update(viewer_ids)
        return len(seen)

    async def count_viewers(self, room: str) -> int:
        present = self._presence.get(room, {})
        now = time.monotonic()
        for viewer in [v for v, until in present.items() if until < now]:
            del present[viewer]
        return len(present)
