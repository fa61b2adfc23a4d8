"""Playback viewers (HLS requests, WebRTC peers) in the cluster-wide viewer count.

Media code reports sightings (``seen``, ``joined``/``left``, ``webrtc_now``); once a second the
identities the pure ``PlaybackTracker`` holds present are touched into the engine's presence of
their session's room, so the hub's count on every node includes them (one identity counts once)
and each minute's peak is kept for the report. See docs/architecture.md, "Realtime" (Video
viewers without a websocket).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from realtime.engine import Engine
from realtime.errors import RealtimeError
from studio.errors import StudioError
from studio.interaction.playback import PlaybackTracker, viewer_identity
from studio.signing import Signer
from studio.store import Store

log = logging.getLogger(__name__)
PLAYBACK_TTL_S = 3.0  # presence of a playback identity in the engine, renewed every second
UPDATE_EVERY_S = 1.0
RECORD_EVERY_TICKS = 10
NODE_SUFFIX = "-pb"


@dataclass
class _Room:
    counted: set[str]
    minute: datetime | None = None
    minute_peak: int = 0
    uniques: int = 0
    viewers: int = 0


class PlaybackViewers:
    """This node's playback viewers, and the loop that puts them in the engine's presence."""

    def __init__(
        self,
        engine: Engine,
        store: Store,
        signer: Signer,
        *,
        node_id: str,
        tracker: PlaybackTracker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.store = store
        self.signer = signer
        self.node = node_id + NODE_SUFFIX
        self.tracker = tracker or PlaybackTracker()
        self.clock = clock
        self.rooms: dict[str, _Room] = {}
        self._task: asyncio.Task[None] | None = None
        self._webrtc: dict[str, frozenset[str]] = {}

    # --- what media code calls -------------------------------------------------------------

    def seen(
        self,
        session_id: str,
        *,
        target_duration: float,
        address: str,
        user_agent: str,
        pass_viewer: str | None = None,
        query_viewer: str | None = None,
    ) -> str | None:
        """Note one HLS request; return the identity it counted as (None: not counted)."""
        fallback = "hls_" + self.signer.mac("playback", f"{address}\0{user_agent}")[:22]
        hashed = self.signer.mac("playback-address", address)[:16]
        sighting = viewer_identity(pass_viewer, query_viewer, fallback, hashed)
        return self.tracker.saw(session_id, sighting, self.clock(), target_duration)

    def joined(self, session_id: str, viewer_id: str) -> None:
        """A WebRTC (WHEP) viewer's connection to ``session_id`` is up."""
        self.tracker.joined(session_id, viewer_id)

    def left(self, session_id: str, viewer_id: str) -> None:
        """That connection ended (call once per ``joined``)."""
        self.tracker.left(session_id, viewer_id)

    def webrtc_now(self, session_id: str, viewer_ids: Iterable[str]) -> None:
        """The session's WebRTC viewers on this node are now ``viewer_ids`` (for a media
        manager that reports its whole set on each change): joins and leaves the difference."""
        now = frozenset(viewer_ids)
        before = self._webrtc.get(session_id, frozenset())
        for viewer in now - before:
            self.joined(session_id, viewer)
        for viewer in before - now:
            self.left(session_id, viewer)
        if now:
            self._webrtc[session_id] = now
        else:
            self._webrtc.pop(session_id, None)

    # --- the loop --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the once-a-second presence loop."""
        self._task = asyncio.create_task(self._loop(), name="playback-presence")

    async def close(self) -> None:
        """Stop the loop."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(UPDATE_EVERY_S)
            ticks += 1
            try:
                await self.update(record=ticks % RECORD_EVERY_TICKS == 0)
            except (StudioError, RealtimeError) as exc:  # the engine or store is down: counts pause
                log.warning("playback presence update failed: %s", exc.message)

    async def update(self, *, record: bool) -> None:
        """Touch the present identities into the engine; keep peaks and uniques per session."""
        minute = datetime.now(UTC).replace(second=0, microsecond=0)
        watching = self.tracker.watching(self.clock())
        for room_name in [r for r in self.rooms if r not in watching]:
            room = self.rooms.pop(room_name)
            await self._record(room_name, room)  # the last minute of a session's playback
        for room_name, viewers in watching.items():
            room = self.rooms.setdefault(room_name, _Room(counted=set()))
            await self.engine.touch_viewers(room_name, viewers, PLAYBACK_TTL_S)
            room.viewers = await self.engine.count_viewers(room_name)
            room.uniques = await self.engine.count_uniques(room_name, viewers - room.counted)
            room.counted |= viewers
            if room.minute != minute:
                if room.minute is not None:
                    await self._record(room_name, room)
                room.minute, room.minute_peak = minute, 0
            room.minute_peak = max(room.minute_peak, room.viewers)
            if record:
                await self._record(room_name, room)

    async def _record(self, room_name: str, room: _Room) -> None:
        if room.minute is not None:
            await self.store.record_viewers(
                room_name, room.minute, self.node, room.minute_peak, room.uniques
            )
