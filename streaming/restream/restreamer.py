"""The restreams of a node: one ``RestreamTap`` per publish, the ``Restreamer`` over them.

``RestreamTap`` (a ``plane.MediaTap``) remembers the decoder configurations and hands every
tag to its pushers. ``Restreamer`` is the node's ``plane.TapFactory`` and status board: it asks
the programme (``load``) whether a session is live and which destinations are enabled, and
keeps one ``Pusher`` per enabled destination while the session is LIVE and has an ingest on
this node. ``sync`` runs when a session changes, when an operator changes its destinations and
every ``sync_seconds``. Statuses live in memory on the node that runs the push.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from datetime import datetime
from typing import Any

from streaming.errors import InvalidArgument
from streaming.flv import FlvTag, StreamHeads
from streaming.ladder import SourceInfo
from streaming.restream.pusher import (
    DestinationStatus,
    Pusher,
    RestreamConfig,
    Target,
    utcnow,
)
from streaming.vocab import RestreamState
from studio.models import Session

log = logging.getLogger(__name__)


class RestreamTap:
    """The media tap of one publish: remembers the configurations, feeds its pushers."""

    def __init__(
        self, restreamer: Restreamer, session_id: str, source: SourceInfo, first: Sequence[FlvTag]
    ) -> None:
        self.restreamer = restreamer
        self.session_id = session_id
        self.source = source
        self.pushers: dict[str, Pusher] = {}
        self.closed = False
        self._heads = StreamHeads()
        for tag in first:
            self._heads.remember(tag)

    def tag(self, tag: FlvTag) -> None:
        """Hand ``tag`` to every pusher (never blocks)."""
        self._heads.remember(tag)
        for pusher in self.pushers.values():
            pusher.tag(tag)

    async def apply(self, targets: Sequence[Target], rearm: Collection[str] = ()) -> None:
        """Push to exactly ``targets``: start new pushers, stop those no longer wanted.

        A pusher that gave up is started again only when its id is in ``rearm``.
        """
        wanted = {t.id: t for t in targets}
        stale = [
            p
            for i, p in self.pushers.items()
            if i not in wanted or p.target.url != wanted[i].url or (p.done and i in rearm)
        ]
        for pusher in stale:
            del self.pushers[pusher.target.id]
        await asyncio.gather(*(p.stop() for p in stale))
        if self.closed:
            return
        for target in targets:
            if target.id in self.pushers:
                continue
            status = self.restreamer.fresh_status(target.id)
            try:
                pusher = Pusher(
                    self.session_id,
                    target,
                    self.source,
                    self._heads.tags(),
                    self.restreamer.config,
                    status,
                    self.restreamer.wall,
                )
            except InvalidArgument as exc:  # stored before the rules were stricter
                status.last_error = f"the destination URL cannot be used ({exc.problem})"
                status.move(RestreamState.FAILED, self.restreamer.wall())
                continue
            self.pushers[target.id] = pusher
            pusher.start()

    async def close(self) -> None:
        """The publish ended: stop every push."""
        self.closed = True
        self.restreamer.tap_closed(self)
        pushers, self.pushers = list(self.pushers.values()), {}
        await asyncio.gather(*(p.stop() for p in pushers))


Load = Callable[[str], Awaitable[tuple[bool, list[Target]]]]


class Restreamer:
    """Every restream on this node: the tap factory, the syncing and the statuses."""

    def __init__(
        self,
        load: Load,
        config: RestreamConfig | None = None,
        wall: Callable[[], datetime] = utcnow,
    ) -> None:
        self.load = load
        self.config = config or RestreamConfig()
        self.wall = wall
        self._taps: dict[str, RestreamTap] = {}
        self._statuses: dict[str, DestinationStatus] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    # --- what the API reads --------------------------------------------------------------

    def status(self, destination_id: str) -> DestinationStatus | None:
        """The destination's status on this node, if it ever ran here."""
        return self._statuses.get(destination_id)

    def tap(self, session_id: str) -> RestreamTap | None:
        """The session's current publish tap on this node, if any."""
        return self._taps.get(session_id)

    def dropped_frames(self, session_id: str) -> int:
        """Frames the session's pushes on this node dropped because they fell behind."""
        tap = self._taps.get(session_id)
        if tap is None:
            return 0
        return sum(p.status.dropped_frames for p in tap.pushers.values())

    def counts(self) -> dict[RestreamState, int]:
        """How many destinations are in each state on this node (metrics)."""
        counts = dict.fromkeys(RestreamState, 0)
        for status in self._statuses.values():
            counts[status.state] += 1
        return counts

    def fresh_status(self, destination_id: str) -> DestinationStatus:
        """A new status for a push that starts now (replaces the last one)."""
        status = DestinationStatus(since=self.wall())
        self._statuses[destination_id] = status
        return status

    def forget(self, destination_id: str) -> None:
        """A destination was removed: drop its status."""
        self._statuses.pop(destination_id, None)

    # --- the plane's side ----------------------------------------------------------------

    def __call__(
        self, session: Session, source: SourceInfo, first: Sequence[FlvTag]
    ) -> RestreamTap:
        """A publish's source is known: make its tap and start pushing if the session is live."""
        old = self._taps.get(session.id)
        if old is not None:
            old.closed = True
        tap = RestreamTap(self, session.id, source, first)
        self._taps[session.id] = tap
        self._spawn(self.sync(session.id))
        return tap

    def tap_closed(self, tap: RestreamTap) -> None:
        """A publish ended (called by the tap)."""
        if self._taps.get(tap.session_id) is tap:
            del self._taps[tap.session_id]

    async def session_changed(self, session: Session) -> None:
        """A session changed (went live, ended): push or stop accordingly."""
        if session.id in self._taps:
            await self.sync(session.id)

    async def sync(self, session_id: str, rearm: Collection[str] = ()) -> None:
        """Push to the session's enabled destinations if it is live and has an ingest here."""
        async with self._locks.setdefault(session_id, asyncio.Lock()):
            tap = self._taps.get(session_id)
            if tap is None:
                return
            try:
                live, targets = await self.load(session_id)
            except Exception as exc:  # the store is away: keep what runs, try again later
                log.warning("session %s: restream destinations unknown: %s", session_id, exc)
                return
            if tap.closed or self._taps.get(session_id) is not tap:
                return
            await tap.apply(targets if live else [], rearm)

    # --- lifetime ------------------------------------------------------------------------

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def start(self) -> None:
        """Start the periodic sync (destinations changed on other nodes)."""
        if self._loop is None:
            self._loop = asyncio.create_task(self._sync_forever(), name="restream sync")

    async def _sync_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.sync_seconds)
            for session_id in list(self._taps):
                try:
                    await self.sync(session_id)
                except Exception:  # one session's trouble must not end the loop
                    log.exception("session %s: restream sync failed", session_id)

    async def close(self) -> None:
        """Stop every push (shutdown)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        taps, self._taps = list(self._taps.values()), {}
        for tap in taps:
            tap.closed = True
        await asyncio.gather(*(p.stop() for tap in taps for p in tap.pushers.values()))
