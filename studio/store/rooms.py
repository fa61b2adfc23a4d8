"""What the realtime rooms leave behind: archived room logs, viewer counts per minute and the
moderators' audit log (the after-event report reads them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa

from studio.interaction.facts import log_position
from studio.models import AuditEntry
from studio.store import tables as t
from studio.store.database import Database


class RoomStore(Database):
    """The ``room_facts``, ``viewer_samples`` and ``audit_log`` tables."""

    async def append_room_facts(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        """Store facts ``(room, id "<ms>-<seq>", data)`` in one transaction."""
        async with self._write() as conn:
            await conn.execute(t.room_facts.insert(), [_fact_row(*row) for row in rows])

    async def room_facts(self, room: str) -> list[tuple[str, bytes]]:
        """Every stored fact of a room, in log order."""
        query = (
            sa.select(t.room_facts.c.ms, t.room_facts.c.seq, t.room_facts.c.data)
            .where(t.room_facts.c.room == room)
            .order_by(t.room_facts.c.ms, t.room_facts.c.seq)
        )
        async with self._read() as conn:
            return [(f"{r.ms}-{r.seq}", bytes(r.data)) for r in await conn.execute(query)]

    async def replace_room_facts(self, room: str, entries: Sequence[tuple[str, bytes]]) -> None:
        """Make the stored log of ``room`` exactly ``entries`` (archiving a Redis log)."""
        async with self._write() as conn:
            await conn.execute(t.room_facts.delete().where(t.room_facts.c.room == room))
            if entries:
                await conn.execute(
                    t.room_facts.insert(), [_fact_row(room, i, d) for i, d in entries]
                )

    async def record_viewers(
        self, room: str, minute: datetime, node: str, viewers: int, uniques: int
    ) -> None:
        """Store this node's view of a room's peak viewers in one minute."""
        key = (
            (t.viewer_samples.c.room == room)
            & (t.viewer_samples.c.minute == minute)
            & (t.viewer_samples.c.node == node)
        )
        async with self._write() as conn:
            await conn.execute(t.viewer_samples.delete().where(key))
            await conn.execute(
                t.viewer_samples.insert().values(
                    room=room, minute=minute, node=node, viewers=viewers, uniques=uniques
                )
            )

    async def viewer_timeline(self, room: str) -> list[tuple[datetime, int, int]]:
        """Per minute: the most viewers and unique viewers any node saw."""
        c = t.viewer_samples.c
        query = (
            sa.select(c.minute, sa.func.max(c.viewers), sa.func.max(c.uniques))
            .where(c.room == room)
            .group_by(c.minute)
            .order_by(c.minute)
        )
        async with self._read() as conn:
            return [(r[0], int(r[1]), int(r[2])) for r in await conn.execute(query)]

    async def add_audit(self, entry: AuditEntry) -> None:
        """Record a moderator action."""
        async with self._write() as conn:
            row = msgspec.structs.asdict(entry)
            row["target"] = entry.target or ""  # the column is NOT NULL: "" stands for None
            await conn.execute(t.audit_log.insert().values(**row))

    async def audit(self, room: str) -> list[AuditEntry]:
        """A room's moderator actions, oldest first."""
        query = sa.select(t.audit_log).where(t.audit_log.c.room == room).order_by(t.audit_log.c.id)
        async with self._read() as conn:
            return [
                AuditEntry(room=r.room, at=r.at, actor_id=r.actor_id, actor_name=r.actor_name,
                           action=r.action, target=r.target or None, detail=r.detail)
                for r in await conn.execute(query)
            ]  # fmt: skip


def _fact_row(room: str, event_id: str, data: bytes) -> dict[str, Any]:
    ms, seq = log_position(event_id)
    return {"room": room, "ms": ms, "seq": seq, "data": data}
