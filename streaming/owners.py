"""This node's side of media ownership: claims, confirmations, look-ups, and changes made on
other nodes to sessions whose media this node holds (the rule is ``streaming.ownership``).

``MediaOwners`` claims a session when its publish reaches the pipeline (``tap``), confirms its
rows (``run``), looks up owners elsewhere (``owner_elsewhere``) and follows the event room
(``follow_changes``). See ``docs/architecture.md`` ("Media across nodes").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from streaming.ownership import REFRESH_EVERY_S, Echoes, proxy_target, same_node
from studio.errors import NotFound, StudioError
from studio.interaction.facts import SessionChanged, decode_fact
from studio.models import Session

if TYPE_CHECKING:
    from streaming.flv import FlvTag
    from streaming.ladder import SourceInfo
    from streaming.plane import MediaPlane
    from studio.store import Store

log = logging.getLogger(__name__)

LOOKUP_TTL_S = 1.0  # how long a node trusts what the store said about a session's owner

SessionListener = Callable[[Session], Awaitable[None]]


def _now() -> datetime:
    return datetime.now(UTC)


class MediaOwners:
    """Claims and confirms this node's sessions; looks up (with a short cache) who holds one."""

    def __init__(
        self,
        store: Store,
        *,
        node_url: str,
        node_id: str,
        echoes: Echoes | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.node_url = node_url
        self.node_id = node_id
        self.clock = clock
        self.echoes = echoes or Echoes()
        self._reacted: dict[str, str] = {}  # session -> the state last acted on from elsewhere
        self._lookups: dict[str, tuple[float, str | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def claim(self, session_id: str) -> None:
        """Record this node as the holder of the session's media."""
        try:
            await self.store.claim_media(session_id, self.node_url, self.node_id, self.clock())
        except StudioError as exc:
            log.warning(
                "session %s: cannot record this node as media owner: %s", session_id, exc.message
            )
            return
        self._lookups.pop(session_id, None)

    def tap(self, session: Session, source: SourceInfo, first: Sequence[FlvTag]) -> None:
        """A ``TapFactory`` of the plane: each publish that reaches the pipeline claims."""
        self._spawn(self.claim(session.id))

    async def run(self) -> None:
        """Confirm this node's rows every ``REFRESH_EVERY_S`` seconds, forever."""
        while True:
            try:
                await self.store.refresh_media(self.node_url, self.clock())
            except StudioError as exc:
                log.warning("cannot confirm this node's media sessions: %s", exc.message)
            await asyncio.sleep(REFRESH_EVERY_S)

    async def owner_elsewhere(self, session_id: str) -> str | None:
        """The URL of the live node that holds the session's media, when it is not this one."""
        loop = asyncio.get_running_loop()
        cached = self._lookups.get(session_id)
        if cached is not None and cached[0] > loop.time():
            return cached[1]
        try:
            row = await self.store.media_owner(session_id)
        except StudioError as exc:
            log.warning("session %s: cannot look up its media owner: %s", session_id, exc.message)
            return None
        target = proxy_target(row, self.node_url, self.clock())
        if len(self._lookups) > 10_000:
            self._lookups.clear()
        self._lookups[session_id] = (loop.time() + LOOKUP_TTL_S, target)
        return target

    def forget_lookups(self) -> None:
        """Drop every cached look-up (an owner could not be reached: ask the store again)."""
        self._lookups.clear()

    async def is_mine(self, session_id: str) -> bool:
        """Whether the store names this node as the session's media owner."""
        row = await self.store.media_owner(session_id)
        return row is not None and same_node(row.node_url, self.node_url)

    def follow_changes(
        self, plane: MediaPlane, load: Callable[[str], Awaitable[Session]], react: SessionListener
    ) -> Callable[[str, bytes], None]:
        """A listener of the event room's facts: a session change another node made, of a
        session whose media this node holds, is re-read and handed to ``react``."""

        def on_fact(event_id: str, data: bytes) -> None:
            try:
                fact = decode_fact(data)
            except msgspec.ValidationError:
                return
            if not isinstance(fact, SessionChanged):
                return
            if self.echoes.is_echo(fact.session_id, fact.state):
                return  # a change of this node: its listeners already had it
            sid = fact.session_id
            if plane.pipeline(sid) is None and not plane.publishing(sid):
                return
            self._spawn(self._react(sid, load, react))

        return on_fact

    async def _react(
        self, session_id: str, load: Callable[[str], Awaitable[Session]], react: SessionListener
    ) -> None:
        try:
            if not await self.is_mine(session_id):
                return
            session = await load(session_id)
        except NotFound:
            return
        except StudioError as exc:
            log.warning(
                "session %s: cannot re-read a change made elsewhere: %s", session_id, exc.message
            )
            return
        if self._reacted.get(session_id) == session.state.value:
            return  # already acted on (the engine delivers again after a reconnect)
        self._reacted[session_id] = session.state.value
        log.info(
            "session %s: %s on another node; acting on it here", session_id, session.state.value
        )
        await react(session)

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("media ownership task failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel what is under way."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def media_here(plane: MediaPlane, session_id: str) -> bool:
    """Whether the session's live media is on this node (a publisher, or a running pipeline)."""
    pipeline = plane.pipeline(session_id)
    return plane.publishing(session_id) or (pipeline is not None and not pipeline.ended)
