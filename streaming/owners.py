"""This node's side of media ownership: claims (each under a new epoch, the fencing token),
confirmations, look-ups, the fence of recordings, and changes made on other nodes to sessions
whose media this node holds (the rule is ``streaming.ownership``).

``MediaOwners`` claims a session when its publish reaches the pipeline (``claim``), confirms its
rows and notices claims other nodes took from it (``run``), looks up owners elsewhere
(``owner_elsewhere``), tells the recorder under which epoch it may build (``build_epoch``,
``check``, ``earlier_nodes``) and follows the event room (``follow_changes``). See
``docs/architecture.md`` ("Media across nodes", "Media failover").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from streaming.errors import OwnerUnknown
from streaming.handover import claim_first_run
from streaming.ownership import REFRESH_EVERY_S, Echoes, proxy_target, same_node
from streaming.vod import CLAIMS, ClaimEntry, journal_line
from studio.errors import Fenced, NotFound, StudioError
from studio.interaction.facts import SessionChanged, decode_fact
from studio.models import Session

if TYPE_CHECKING:
    from streaming.plane import MediaPlane
    from studio.store import Store

log = logging.getLogger(__name__)

LOOKUP_TTL_S = 1.0  # how long a node trusts what the store said about a session's owner
# While the store cannot be reached, the owner it named last (within this long) is still used:
# no node can claim the media without the store, so that answer still holds.
KNOWN_FOR_S = 60.0

SessionListener = Callable[[Session], Awaitable[None]]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Lookup:
    fresh_until: float  # loop time
    known_at: float  # loop time the store answered
    target: str | None


def _note_claim(directory: Path, entry: ClaimEntry) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / CLAIMS).open("ab") as fh:
        fh.write(journal_line(entry))
        fh.flush()
        os.fsync(fh.fileno())


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
        self._lookups: dict[str, _Lookup] = {}
        self._held: dict[str, int] = {}  # session -> the epoch this process claimed it under
        self._tasks: set[asyncio.Task[None]] = set()

    # --- claims (``streaming.plane.Ownership``) ------------------------------------------------

    async def claim(self, session_id: str, directory: Path) -> int | None:
        """Record this node as the holder of the session's media under a new epoch, and note
        in ``directory`` that its runs from now on are of that epoch; None when the store
        could not record it (the publish goes on)."""
        try:
            epoch = await self.store.claim_media(
                session_id, self.node_url, self.node_id, self.clock()
            )
        except StudioError as exc:
            log.warning(
                "session %s: cannot record this node as media owner: %s", session_id, exc.message
            )
            return None
        self._held[session_id] = epoch
        self._lookups.pop(session_id, None)
        first = await asyncio.to_thread(claim_first_run, directory, epoch)
        try:
            await asyncio.to_thread(_note_claim, directory, ClaimEntry(epoch, first))
        except OSError as exc:
            log.warning("session %s: cannot note claim %d: %s", session_id, epoch, exc)
        log.info("session %s: media claimed by this node (epoch %d)", session_id, epoch)
        return epoch

    async def run(self, plane: MediaPlane) -> None:
        """Confirm this node's rows every ``REFRESH_EVERY_S`` seconds, forever; a session whose
        media another node claimed since is given up (``MediaPlane.media_moved``)."""
        while True:
            try:
                held = await self.store.refresh_media(self.node_url, self.clock())
                for session_id in await self._taken(held):
                    await plane.media_moved(session_id)
            except StudioError as exc:
                log.warning("cannot confirm this node's media sessions: %s", exc.message)
            await asyncio.sleep(REFRESH_EVERY_S)

    async def _taken(self, held: dict[str, int]) -> list[str]:
        """This process's claims that a newer claim replaced (checked again one by one: a
        claim may have landed after the refresh read the rows)."""
        taken = []
        for session_id, epoch in list(self._held.items()):
            if held.get(session_id) == epoch:
                continue
            row = await self.store.media_owner(session_id)
            if row is not None and row.epoch == epoch:
                continue
            del self._held[session_id]
            if row is not None:
                log.info(
                    "session %s: media claimed by %s (epoch %d); this node lets it go",
                    session_id,
                    row.node_url,
                    row.epoch,
                )
                taken.append(session_id)
        return taken

    # --- look-ups ------------------------------------------------------------------------------

    async def owner_elsewhere(self, session_id: str) -> str | None:
        """The URL of the live node that holds the session's media, when it is not this one.
        Raises ``OwnerUnknown`` when the store cannot tell and has not told recently."""
        now = asyncio.get_running_loop().time()
        cached = self._lookups.get(session_id)
        if cached is not None and cached.fresh_until > now:
            return cached.target
        try:
            row = await self.store.media_owner(session_id)
        except StudioError as exc:
            if cached is not None and now - cached.known_at < KNOWN_FOR_S:
                return cached.target
            log.warning("session %s: cannot look up its media owner: %s", session_id, exc.message)
            raise OwnerUnknown(
                f"session {session_id}: which node holds its media cannot be told now"
            ) from None
        target = proxy_target(row, self.node_url, self.clock())
        if len(self._lookups) > 10_000:
            self._lookups.clear()
        self._lookups[session_id] = _Lookup(now + LOOKUP_TTL_S, now, target)
        return target

    def forget_lookups(self) -> None:
        """Drop every cached look-up (an owner could not be reached: ask the store again)."""
        self._lookups.clear()

    async def is_mine(self, session_id: str) -> bool:
        """Whether the store names this node as the session's media owner."""
        row = await self.store.media_owner(session_id)
        return row is not None and same_node(row.node_url, self.node_url)

    # --- the recording's fence (``streaming.recording.RecordingFence``) ------------------------

    async def build_epoch(self, session_id: str) -> int | None:
        """The epoch under which this node may build the session's recording (None when no
        node ever claimed its media); ``Fenced`` when another node holds it now."""
        row = await self.store.media_owner(session_id)
        if row is None:
            return None
        if not same_node(row.node_url, self.node_url):
            raise Fenced(session_id, row.epoch)
        return row.epoch

    async def check(self, session_id: str, epoch: int | None) -> None:
        """Raise ``Fenced`` when a claim newer than ``epoch`` holds the session's media."""
        if epoch is None:
            return
        row = await self.store.media_owner(session_id)
        if row is not None and row.epoch != epoch:
            raise Fenced(session_id, row.epoch)

    async def earlier_nodes(self, session_id: str) -> dict[str, list[int]]:
        """The other nodes that held the session's media (in the order they first took it),
        each with the epochs it held."""
        found: dict[str, list[int]] = {}
        for claim in await self.store.media_claims(session_id):
            url = claim.node_url.rstrip("/")
            if not same_node(url, self.node_url):
                found.setdefault(url, []).append(claim.epoch)
        return found

    # --- changes made on other nodes -----------------------------------------------------------

    def follow_changes(
        self, plane: MediaPlane, load: Callable[[str], Awaitable[Session]], react: SessionListener
    ) -> Callable[[str, bytes], None]:
        """A listener of the event room's facts: a session change another node made, of a
        session whose media (live, or files on disk) is here and the store names this node
        as its owner, is re-read and handed to ``react``."""

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
                self._spawn(self._react_if_files(plane, sid, load, react))
                return
            self._spawn(self._react(sid, load, react))

        return on_fact

    async def _react_if_files(
        self,
        plane: MediaPlane,
        session_id: str,
        load: Callable[[str], Awaitable[Session]],
        react: SessionListener,
    ) -> None:
        """A session with no live media here but files (this node held it before a restart)."""
        if await plane.has_files(session_id):
            await self._react(session_id, load, react)

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
