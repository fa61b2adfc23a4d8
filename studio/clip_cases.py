"""The programme's use cases of clips (``studio.clips``), each with its access check; mixed
into ``studio.service.Programme``."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Protocol

from studio.access import Action, Principal, authorize
from studio.captions.cues import MAX_CUE_MS, recording_zero_ms
from studio.captions.formats import TimedLine
from studio.clips import (
    ClipAspect,
    ClipRecord,
    ClipSpan,
    ClipState,
    burn_in_lines,
    check_clippable,
)
from studio.models import Session
from studio.secrets import new_id
from studio.store import Store


class _Clock(Protocol):
    def now(self) -> datetime: ...


class ClipCases:
    """Make, list and finish clips (the programme's ``store`` and ``clock``)."""

    store: Store
    clock: _Clock

    async def clip_session(self, who: Principal | None, session_id: str) -> Session:
        """The session, if the caller may clip in its studio and it has a recording to clip."""
        session = await self.store.get_session(session_id)
        authorize(who, Action.MAKE_CLIPS, session.studio_id)
        check_clippable(session.state)
        return session

    async def add_clips(
        self,
        who: Principal,
        session: Session,
        span: ClipSpan,
        aspects: list[ClipAspect],
        *,
        played_from: float = 0.0,
        captions: str | None = None,
    ) -> list[ClipRecord]:
        """Record a clip of ``span`` in each aspect, being cut (in and out stored as the replay
        plays them: ``played_from`` is where that begins on the recording), with the caption
        language ``captions`` burned in, if any."""
        now = self.clock.now()
        records = [
            ClipRecord(
                id=new_id("clp"),
                session_id=session.id,
                aspect=aspect,
                state=ClipState.CUTTING,
                message="",
                in_seconds=round(span.start - played_from, 3),
                out_seconds=round(span.end - played_from, 3),
                duration=None,
                width=None,
                height=None,
                size_bytes=None,
                created_by=who.name,
                created_at=now,
                updated_at=now,
                captions=captions,
            )
            for aspect in aspects
        ]
        await self.store.add_clips(records)
        return records

    async def burn_in(self, session: Session, language: str, span: ClipSpan) -> list[TimedLine]:
        """The cues of ``language`` a clip of ``span`` shows, on the recording's timeline."""
        zero = recording_zero_ms(session)
        cues = await self.store.list_captions(
            session.id,
            language,
            from_ms=zero + int(span.start * 1000) - MAX_CUE_MS,
            until_ms=zero + math.ceil(span.end * 1000),
        )
        return burn_in_lines(cues, zero, span)

    async def list_clips(self, session_id: str, *, every: bool) -> list[ClipRecord]:
        """A session's clips, newest first: ``every`` one (staff), or only those ready."""
        await self.store.get_session(session_id)
        clips = await self.store.list_clips(session_id)
        return clips if every else [c for c in clips if c.state is ClipState.READY]

    async def get_clip(self, session_id: str, clip_id: str) -> ClipRecord:
        """One clip of a session (NotFound otherwise)."""
        return await self.store.get_clip(session_id, clip_id)

    async def save_clip(self, record: ClipRecord) -> None:
        """The media plane records how cutting a clip went."""
        await self.store.save_clip(record)

    async def clips_cutting(self) -> list[ClipRecord]:
        """Clips still marked as being cut (a node stopped while cutting them)."""
        return await self.store.clips_in(ClipState.CUTTING)
