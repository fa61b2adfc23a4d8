"""Async store over SQLAlchemy Core: the same statements run on SQLite and PostgreSQL.

Every write is one transaction: a failed request leaves the store as it was. Driver errors are
mapped to ``StoreUnavailable`` (or ``Conflict`` for unique clashes) where they cross into our code.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from studio.errors import Conflict, NotFound, ScheduleOverlap, StoreUnavailable
from studio.interaction.facts import log_position
from studio.models import ApiToken, AuditEntry, Session, Studio, check_times, overlapping
from studio.roles import Role
from studio.secrets import hash_secret, new_id, new_secret
from studio.states import RecordingState, SessionEvent, SessionState, next_state
from studio.store import tables as t

if TYPE_CHECKING:
    from studio.program_io import ProgramDocument

_ACTIVE = [SessionState.SCHEDULED.value, SessionState.READY.value, SessionState.LIVE.value]


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A token as looked up by its hash."""

    token: ApiToken


@dataclass(frozen=True, slots=True)
class WebSession:
    """A browser sign-in: which token it stands for, until when."""

    token: ApiToken
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RecordingRecord:
    """A session's recording: its state, why it failed, its length and the operator's trim."""

    session_id: str
    state: RecordingState
    message: str
    duration: float | None
    trim_start: float | None
    trim_end: float | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MediaOwnerRecord:
    """The node that holds a session's media (``streaming.ownership``) and when it last said so."""

    session_id: str
    node_url: str
    node_id: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What a programme import changed."""

    studios_created: int
    sessions_created: int
    sessions_updated: int


@dataclass(frozen=True, slots=True)
class Destination:
    """A restream destination of a session. ``url`` holds its stream key: never log or show it
    whole (``streaming.restream.mask_url`` and ``scrub``)."""

    id: str
    session_id: str
    name: str
    url: str = field(repr=False)
    enabled: bool
    created_at: datetime
    updated_at: datetime


def _destination(row: sa.Row[Any]) -> Destination:
    return Destination(
        id=row.id,
        session_id=row.session_id,
        name=row.name,
        url=row.url,
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _studio(row: sa.Row[Any]) -> Studio:
    return Studio(id=row.id, name=row.name, created_at=row.created_at)


def _session(row: sa.Row[Any]) -> Session:
    return Session(
        id=row.id,
        studio_id=row.studio_id,
        title=row.title,
        description=row.description,
        speakers=tuple(row.speakers),
        language=row.language,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        state=SessionState(row.state),
        auto_start=row.auto_start,
        auto_end=row.auto_end,
        qa_auto_approve=row.qa_auto_approve,
        created_at=row.created_at,
        updated_at=row.updated_at,
        went_live_at=row.went_live_at,
        ended_at=row.ended_at,
    )


def _recording(row: sa.Row[Any]) -> RecordingRecord:
    return RecordingRecord(
        session_id=row.session_id,
        state=RecordingState(row.state),
        message=row.message,
        duration=row.duration,
        trim_start=row.trim_start,
        trim_end=row.trim_end,
        updated_at=row.updated_at,
    )


def _token(row: sa.Row[Any]) -> ApiToken:
    return ApiToken(
        id=row.id,
        role=Role(row.role),
        name=row.name,
        studio_ids=tuple(row.studio_ids),
        created_at=row.created_at,
    )


_SESSION_COLUMNS = [c for c in t.sessions.c if c.name != "stream_key_hash"]


class Store:
    """Studios, sessions, tokens and browser sign-ins, on SQLite or PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        # SQLite allows one writer; serialising writes here keeps check-then-write atomic.
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect to ``url``, create missing tables and return the store."""
        parsed = make_url(url)
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs = {"pool_size": 10, "max_overflow": 10, "pool_pre_ping": True}
        engine = create_async_engine(url, **kwargs)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(t.metadata.create_all)
        except (sqlalchemy.exc.DBAPIError, OSError) as exc:
            await engine.dispose()
            raise StoreUnavailable(f"cannot open the store: {_reason(exc)}") from exc
        return store

    async def close(self) -> None:
        """Release every connection."""
        await self._engine.dispose()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    @contextlib.asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as conn:
                yield conn
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, OSError) as exc:
            raise StoreUnavailable(f"the store is unavailable: {_reason(exc)}") from exc

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        lock = self._write_lock if self._sqlite else contextlib.nullcontext()
        try:
            async with lock, self._engine.begin() as conn:
                yield conn
        except sqlalchemy.exc.IntegrityError as exc:
            raise Conflict(f"the change clashes with existing data: {_reason(exc)}") from exc
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, OSError) as exc:
            raise StoreUnavailable(f"the store is unavailable: {_reason(exc)}") from exc

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers."""
        async with self._read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    # --- meta -------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        """Return a stored flag or value, or None."""
        async with self._read() as conn:
            value = await conn.scalar(sa.select(t.meta.c.value).where(t.meta.c.key == key))
        return None if value is None else str(value)

    async def claim(self, key: str, value: str) -> bool:
        """Store ``key`` only if absent; True for the one caller (of any node) that did."""
        try:
            async with self._write() as conn:
                if await conn.scalar(sa.select(t.meta.c.key).where(t.meta.c.key == key)):
                    return False
                await conn.execute(t.meta.insert().values(key=key, value=value))
        except Conflict:
            return False
        return True

    async def set_meta(self, key: str, value: str) -> None:
        """Store a flag or value under ``key``."""
        async with self._write() as conn:
            await conn.execute(t.meta.delete().where(t.meta.c.key == key))
            await conn.execute(t.meta.insert().values(key=key, value=value))

    # --- studios ----------------------------------------------------------------------------

    async def create_studio(self, name: str, now: datetime) -> Studio:
        """Create a studio; names are unique."""
        async with self._write() as conn:
            await self._refuse_duplicate_name(conn, name)
            studio = Studio(id=new_id("std"), name=name, created_at=now)
            await conn.execute(t.studios.insert().values(id=studio.id, name=name, created_at=now))
        return studio

    async def _refuse_duplicate_name(
        self, conn: AsyncConnection, name: str, ignore_id: str = ""
    ) -> None:
        found = await conn.scalar(
            sa.select(t.studios.c.id).where(t.studios.c.name == name, t.studios.c.id != ignore_id)
        )
        if found is not None:
            raise Conflict(f"a studio named {name!r} already exists")

    async def list_studios(self) -> list[Studio]:
        """Every studio, by name."""
        async with self._read() as conn:
            rows = await conn.execute(sa.select(t.studios).order_by(t.studios.c.name))
            return [_studio(r) for r in rows]

    async def get_studio(self, studio_id: str) -> Studio:
        """The studio with this id, or NotFound."""
        async with self._read() as conn:
            row = (
                await conn.execute(sa.select(t.studios).where(t.studios.c.id == studio_id))
            ).first()
        if row is None:
            raise NotFound("studio", studio_id)
        return _studio(row)

    async def rename_studio(self, studio_id: str, name: str) -> Studio:
        """Give a studio a new (unique) name."""
        async with self._write() as conn:
            await self._lock_studio(conn, studio_id)
            await self._refuse_duplicate_name(conn, name, ignore_id=studio_id)
            await conn.execute(
                t.studios.update().where(t.studios.c.id == studio_id).values(name=name)
            )
            row = (
                await conn.execute(sa.select(t.studios).where(t.studios.c.id == studio_id))
            ).one()
        return _studio(row)

    async def delete_studio(self, studio_id: str) -> None:
        """Delete a studio that has no sessions left."""
        async with self._write() as conn:
            await self._lock_studio(conn, studio_id)
            count = await conn.scalar(
                sa.select(sa.func.count()).where(t.sessions.c.studio_id == studio_id)
            )
            if count:
                raise Conflict(
                    f"studio {studio_id!r} still has {count} session(s); delete or move them first"
                )
            await conn.execute(t.studios.delete().where(t.studios.c.id == studio_id))

    async def _lock_studio(self, conn: AsyncConnection, studio_id: str) -> None:
        """Lock the studio row (PostgreSQL) so schedule checks in it are serialised."""
        query = sa.select(t.studios.c.id).where(t.studios.c.id == studio_id)
        if not self._sqlite:
            query = query.with_for_update()
        if await conn.scalar(query) is None:
            raise NotFound("studio", studio_id)

    # --- sessions ---------------------------------------------------------------------------

    async def create_session(self, session: Session, stream_key_hash: str) -> Session:
        """Insert a new session after checking its studio exists and its slot is free."""
        check_times(session.starts_at, session.ends_at)
        async with self._write() as conn:
            await self._lock_studio(conn, session.studio_id)
            await self._refuse_overlap(conn, session)
            await conn.execute(
                t.sessions.insert().values(
                    **_session_values(session), stream_key_hash=stream_key_hash
                )
            )
        return session

    async def _refuse_overlap(self, conn: AsyncConnection, session: Session) -> None:
        rows = await conn.execute(
            sa.select(*_SESSION_COLUMNS).where(
                t.sessions.c.studio_id == session.studio_id,
                t.sessions.c.starts_at < session.ends_at,
                t.sessions.c.ends_at > session.starts_at,
                t.sessions.c.id != session.id,
            )
        )
        clash = overlapping(session.starts_at, session.ends_at, [_session(r) for r in rows])
        if clash is not None:
            raise ScheduleOverlap(clash.id, clash.title)

    async def get_session(self, session_id: str) -> Session:
        """The session with this id, or NotFound."""
        async with self._read() as conn:
            row = (
                await conn.execute(
                    sa.select(*_SESSION_COLUMNS).where(t.sessions.c.id == session_id)
                )
            ).first()
        if row is None:
            raise NotFound("session", session_id)
        return _session(row)

    async def list_sessions(
        self,
        *,
        studio_id: str | None = None,
        states: Sequence[SessionState] | None = None,
        starts_before: datetime | None = None,
    ) -> list[Session]:
        """Sessions in programme order, optionally of one studio, some states, or started by."""
        query = sa.select(*_SESSION_COLUMNS).order_by(
            t.sessions.c.starts_at, t.sessions.c.studio_id
        )
        if studio_id is not None:
            query = query.where(t.sessions.c.studio_id == studio_id)
        if states is not None:
            query = query.where(t.sessions.c.state.in_([s.value for s in states]))
        if starts_before is not None:
            query = query.where(t.sessions.c.starts_at <= starts_before)
        async with self._read() as conn:
            return [_session(r) for r in await conn.execute(query)]

    async def active_sessions(self, now: datetime) -> list[Session]:
        """Sessions the scheduler may have to move: not finished, and already started."""
        return await self.list_sessions(
            states=[SessionState(s) for s in _ACTIVE], starts_before=now
        )

    async def update_session(self, session: Session) -> Session:
        """Write changed fields of ``session`` (same id), re-checking its slot."""
        check_times(session.starts_at, session.ends_at)
        async with self._write() as conn:
            await self._require_session(conn, session.id)
            await self._lock_studio(conn, session.studio_id)
            await self._refuse_overlap(conn, session)
            values = _session_values(session)
            del values["id"], values["created_at"]
            await conn.execute(
                t.sessions.update().where(t.sessions.c.id == session.id).values(**values)
            )
        return session

    async def _require_session(self, conn: AsyncConnection, session_id: str) -> Session:
        query = sa.select(*_SESSION_COLUMNS).where(t.sessions.c.id == session_id)
        if not self._sqlite:
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound("session", session_id)
        return _session(row)

    async def delete_session(self, session_id: str) -> None:
        """Delete a session (its recordings and archives go with it)."""
        async with self._write() as conn:
            await self._require_session(conn, session_id)
            await conn.execute(t.sessions.delete().where(t.sessions.c.id == session_id))

    async def transition_session(
        self, session_id: str, event: SessionEvent, now: datetime
    ) -> tuple[Session, Session]:
        """Apply a lifecycle event atomically; return (before, after) or raise InvalidTransition."""
        async with self._write() as conn:
            before = await self._require_session(conn, session_id)
            state = next_state(before.state, event)
            changes: dict[str, Any] = {"state": state.value, "updated_at": now}
            if state is SessionState.LIVE and before.state is not SessionState.LIVE:
                changes["went_live_at"] = now
            if state is SessionState.ENDED and before.state is not SessionState.ENDED:
                changes["ended_at"] = now
            if state is not before.state:
                await conn.execute(
                    t.sessions.update().where(t.sessions.c.id == session_id).values(**changes)
                )
            row = (
                await conn.execute(
                    sa.select(*_SESSION_COLUMNS).where(t.sessions.c.id == session_id)
                )
            ).one()
        return before, _session(row)

    async def set_stream_key_hash(self, session_id: str, key_hash: str, now: datetime) -> None:
        """Replace a session's stream key (the old key stops working at once)."""
        async with self._write() as conn:
            await self._require_session(conn, session_id)
            await conn.execute(
                t.sessions.update()
                .where(t.sessions.c.id == session_id)
                .values(stream_key_hash=key_hash, updated_at=now)
            )

    async def session_by_stream_key_hash(self, key_hash: str) -> Session | None:
        """The session a stream key belongs to, if any."""
        async with self._read() as conn:
            row = (
                await conn.execute(
                    sa.select(*_SESSION_COLUMNS).where(t.sessions.c.stream_key_hash == key_hash)
                )
            ).first()
        return None if row is None else _session(row)

    # --- tokens and browser sign-ins ---------------------------------------------------------

    async def create_token(self, token: ApiToken, token_hash: str) -> ApiToken:
        """Store a token record under the hash of its secret."""
        async with self._write() as conn:
            for studio_id in token.studio_ids:
                await self._lock_studio(conn, studio_id)
            await conn.execute(
                t.api_tokens.insert().values(
                    id=token.id,
                    token_hash=token_hash,
                    role=token.role.value,
                    name=token.name,
                    studio_ids=list(token.studio_ids),
                    created_at=token.created_at,
                )
            )
        return token

    async def token_by_hash(self, token_hash: str) -> ApiToken | None:
        """The token whose secret hashes to ``token_hash``, if any."""
        async with self._read() as conn:
            row = (
                await conn.execute(
                    sa.select(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash)
                )
            ).first()
        return None if row is None else _token(row)

    async def list_tokens(self) -> list[ApiToken]:
        """Every token record (never the secrets)."""
        async with self._read() as conn:
            rows = await conn.execute(sa.select(t.api_tokens).order_by(t.api_tokens.c.created_at))
            return [_token(r) for r in rows]

    async def revoke_token(self, token_id: str) -> None:
        """Delete a token and every browser sign-in made with it."""
        async with self._write() as conn:
            await conn.execute(t.web_sessions.delete().where(t.web_sessions.c.token_id == token_id))
            result = await conn.execute(t.api_tokens.delete().where(t.api_tokens.c.id == token_id))
            if result.rowcount == 0:
                raise NotFound("token", token_id)

    async def create_web_session(self, id_hash: str, token_id: str, expires_at: datetime) -> None:
        """Record a browser sign-in."""
        async with self._write() as conn:
            await conn.execute(
                t.web_sessions.insert().values(
                    id_hash=id_hash, token_id=token_id, expires_at=expires_at
                )
            )

    async def web_session(self, id_hash: str, now: datetime) -> WebSession | None:
        """The live browser sign-in with this id hash, if not expired."""
        query = (
            sa.select(t.api_tokens, t.web_sessions.c.expires_at)
            .join(t.web_sessions, t.web_sessions.c.token_id == t.api_tokens.c.id)
            .where(t.web_sessions.c.id_hash == id_hash, t.web_sessions.c.expires_at > now)
        )
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return WebSession(token=_token(row), expires_at=row.expires_at)

    async def delete_web_session(self, id_hash: str) -> None:
        """Sign a browser out."""
        async with self._write() as conn:
            await conn.execute(t.web_sessions.delete().where(t.web_sessions.c.id_hash == id_hash))

    # --- room logs and the moderators' audit log --------------------------------------------

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

    # --- restream destinations ---------------------------------------------------------------

    async def add_destination(self, destination: Destination, *, limit: int) -> Destination:
        """Add a restream destination to its session, refusing more than ``limit`` per session."""
        c = t.restream_destinations.c
        async with self._write() as conn:
            await self._require_session(conn, destination.session_id)
            count = await conn.scalar(
                sa.select(sa.func.count()).where(c.session_id == destination.session_id)
            )
            if (count or 0) >= limit:
                raise Conflict(f"a session may have at most {limit} restream destinations")
            await conn.execute(
                t.restream_destinations.insert().values(
                    id=destination.id,
                    session_id=destination.session_id,
                    name=destination.name,
                    url=destination.url,
                    enabled=destination.enabled,
                    created_at=destination.created_at,
                    updated_at=destination.updated_at,
                )
            )
        return destination

    async def list_destinations(self, session_id: str) -> list[Destination]:
        """A session's restream destinations, oldest first."""
        c = t.restream_destinations.c
        query = (
            sa.select(t.restream_destinations)
            .where(c.session_id == session_id)
            .order_by(c.created_at, c.id)
        )
        async with self._read() as conn:
            return [_destination(r) for r in await conn.execute(query)]

    async def get_destination(self, session_id: str, destination_id: str) -> Destination:
        """One restream destination of a session, or NotFound."""
        c = t.restream_destinations.c
        query = sa.select(t.restream_destinations).where(
            c.id == destination_id, c.session_id == session_id
        )
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound("restream destination", destination_id)
        return _destination(row)

    async def update_destination(
        self,
        session_id: str,
        destination_id: str,
        now: datetime,
        *,
        name: str | None = None,
        enabled: bool | None = None,
    ) -> Destination:
        """Rename or switch a restream destination on or off; return the new record."""
        c = t.restream_destinations.c
        changes: dict[str, Any] = {"updated_at": now}
        if name is not None:
            changes["name"] = name
        if enabled is not None:
            changes["enabled"] = enabled
        where = sa.and_(c.id == destination_id, c.session_id == session_id)
        async with self._write() as conn:
            result = await conn.execute(
                t.restream_destinations.update().where(where).values(**changes)
            )
            if result.rowcount == 0:
                raise NotFound("restream destination", destination_id)
            row = (await conn.execute(sa.select(t.restream_destinations).where(where))).one()
        return _destination(row)

    async def delete_destination(self, session_id: str, destination_id: str) -> None:
        """Remove a restream destination of a session."""
        c = t.restream_destinations.c
        where = sa.and_(c.id == destination_id, c.session_id == session_id)
        async with self._write() as conn:
            result = await conn.execute(t.restream_destinations.delete().where(where))
            if result.rowcount == 0:
                raise NotFound("restream destination", destination_id)

    # --- recordings --------------------------------------------------------------------------

    async def get_recording(self, session_id: str) -> RecordingRecord | None:
        """A session's recording record, if it has one."""
        c = t.recordings.c
        async with self._read() as conn:
            row = (
                await conn.execute(sa.select(t.recordings).where(c.session_id == session_id))
            ).first()
        return None if row is None else _recording(row)

    async def recordings_in(self, state: RecordingState) -> list[RecordingRecord]:
        """Every recording record in ``state``."""
        query = sa.select(t.recordings).where(t.recordings.c.state == state.value)
        async with self._read() as conn:
            return [_recording(row) for row in await conn.execute(query)]

    async def save_recording(self, record: RecordingRecord) -> None:
        """Create or replace a session's recording record."""
        values = {
            "session_id": record.session_id,
            "state": record.state.value,
            "message": record.message,
            "duration": record.duration,
            "trim_start": record.trim_start,
            "trim_end": record.trim_end,
            "updated_at": record.updated_at,
        }
        async with self._write() as conn:
            await self._require_session(conn, record.session_id)
            c = t.recordings.c
            await conn.execute(t.recordings.delete().where(c.session_id == record.session_id))
            await conn.execute(t.recordings.insert().values(**values))

    # --- media owners (streaming.ownership) ----------------------------------------------------

    async def claim_media(
        self, session_id: str, node_url: str, node_id: str, now: datetime
    ) -> None:
        """Record ``node_url`` as the node holding the session's media (replacing any other)."""
        c = t.media_owners.c
        async with self._write() as conn:
            await self._require_session(conn, session_id)
            await conn.execute(t.media_owners.delete().where(c.session_id == session_id))
            await conn.execute(
                t.media_owners.insert().values(
                    session_id=session_id, node_url=node_url, node_id=node_id, updated_at=now
                )
            )

    async def refresh_media(self, node_url: str, now: datetime) -> int:
        """Confirm every session whose media ``node_url`` holds; return how many."""
        c = t.media_owners.c
        update = t.media_owners.update().where(c.node_url == node_url).values(updated_at=now)
        async with self._write() as conn:
            result = await conn.execute(update)
        return int(result.rowcount or 0)

    async def media_owner(self, session_id: str) -> MediaOwnerRecord | None:
        """The node holding the session's media, if one ever said so."""
        query = sa.select(t.media_owners).where(t.media_owners.c.session_id == session_id)
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return MediaOwnerRecord(row.session_id, row.node_url, row.node_id, row.updated_at)

    # --- programme import --------------------------------------------------------------------

    async def import_program(
        self,
        doc: ProgramDocument,
        *,
        now: datetime,
        default_language: str,
        default_auto_start: bool,
    ) -> ImportResult:
        """Create or update studios and sessions from a document, all or nothing."""
        studios_created = created = updated = 0
        async with self._write() as conn:
            by_name = {
                r.name: r.id
                for r in await conn.execute(sa.select(t.studios.c.id, t.studios.c.name))
            }
            names = [s.name for s in doc.studios] + [s.studio for s in doc.sessions]
            for name in dict.fromkeys(names):
                if name not in by_name:
                    by_name[name] = new_id("std")
                    await conn.execute(
                        t.studios.insert().values(id=by_name[name], name=name, created_at=now)
                    )
                    studios_created += 1
            for index, entry in enumerate(doc.sessions):
                existing = None
                if entry.id:
                    row = (
                        await conn.execute(
                            sa.select(*_SESSION_COLUMNS).where(t.sessions.c.id == entry.id)
                        )
                    ).first()
                    existing = None if row is None else _session(row)
                state = SessionState.SCHEDULED
                if entry.state == SessionState.CANCELLED.value:
                    state = SessionState.CANCELLED
                session = Session(
                    id=entry.id or new_id("ses"),
                    studio_id=by_name[entry.studio],
                    title=entry.title,
                    description=entry.description,
                    speakers=tuple(entry.speakers),
                    language=entry.language or default_language,
                    starts_at=entry.starts_at,
                    ends_at=entry.ends_at,
                    state=existing.state if existing else state,
                    auto_start=default_auto_start if entry.auto_start is None else entry.auto_start,
                    auto_end=entry.auto_end,
                    qa_auto_approve=existing.qa_auto_approve if existing else False,
                    created_at=existing.created_at if existing else now,
                    updated_at=now,
                    went_live_at=existing.went_live_at if existing else None,
                    ended_at=existing.ended_at if existing else None,
                )
                try:
                    await self._refuse_overlap(conn, session)
                except ScheduleOverlap as exc:
                    raise ScheduleOverlap(
                        exc.other_id, f"{exc.message}; in sessions[{index}]"
                    ) from None
                values = _session_values(session)
                if existing is None:
                    key_hash = hash_secret(new_secret("sk"))
                    await conn.execute(
                        t.sessions.insert().values(**values, stream_key_hash=key_hash)
                    )
                    created += 1
                else:
                    await conn.execute(
                        t.sessions.update().where(t.sessions.c.id == session.id).values(**values)
                    )
                    updated += 1
        return ImportResult(studios_created, created, updated)


def _session_values(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "studio_id": session.studio_id,
        "title": session.title,
        "description": session.description,
        "speakers": list(session.speakers),
        "language": session.language,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "state": session.state.value,
        "auto_start": session.auto_start,
        "auto_end": session.auto_end,
        "qa_auto_approve": session.qa_auto_approve,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "went_live_at": session.went_live_at,
        "ended_at": session.ended_at,
    }


def _fact_row(room: str, event_id: str, data: bytes) -> dict[str, Any]:
    ms, seq = log_position(event_id)
    return {"room": room, "ms": ms, "seq": seq, "data": data}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _reason(exc: BaseException) -> str:
    """A short, secret-free reason: the driver's first line, never the statement or its values."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0][:200] if text else type(orig).__name__
