"""The store on both back ends: SQLite (embedded) and PostgreSQL (started by the tests)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from studio.errors import Conflict, InvalidTransition, NotFound, ScheduleOverlap, StoreUnavailable
from studio.models import ApiToken, Session, Studio
from studio.program_io import (
    ImportDefaults,
    ImportPlan,
    ProgramDocument,
    ProgramSession,
    plan_import,
)
from studio.roles import Role
from studio.secrets import hash_secret, no_stream_key
from studio.states import SessionEvent, SessionState
from studio.store import Destination, Store
from tests.support.harness import T0, sqlite_url
from tests.support.programme import a_session

ME = "http://torget-1:8080"
OTHER = "http://torget-2:8080"
KEY = "rs-secret-key-0123456789abcdef"


async def test_studio_and_session_round_trip(store: Store) -> None:
    """What is written reads back equal, with timezone-aware UTC times."""
    studio = await store.create_studio("Stora scenen", T0)
    session = await store.create_session(a_session(studio.id), hash_secret("sk_1"))
    assert await store.get_session(session.id) == session
    assert (await store.get_session(session.id)).starts_at.tzinfo is not None
    assert await store.list_studios() == [studio]
    assert await store.session_by_stream_key_hash(hash_secret("sk_1")) == session
    assert await store.session_by_stream_key_hash(hash_secret("sk_2")) is None


async def test_overlap_in_one_studio_is_refused(store: Store) -> None:
    """Two sessions of one studio may not share time; touching ends are fine."""
    studio = await store.create_studio("A", T0)
    other = await store.create_studio("B", T0)
    first = await store.create_session(a_session(studio.id), "h1")
    with pytest.raises(ScheduleOverlap) as caught:
        await store.create_session(a_session(studio.id, start_minutes=30), "h2")
    assert caught.value.other_id == first.id
    await store.create_session(a_session(studio.id, start_minutes=45), "h3")
    await store.create_session(a_session(other.id, start_minutes=30), "h4")
    assert len(await store.list_sessions()) == 3


async def test_cancelled_session_frees_its_slot(store: Store) -> None:
    """A cancelled session does not block its time."""
    studio = await store.create_studio("A", T0)
    first = await store.create_session(a_session(studio.id), "h1")
    await store.transition_session(first.id, SessionEvent.CANCEL, T0)
    await store.create_session(a_session(studio.id, start_minutes=10), "h2")


async def test_concurrent_creates_cannot_both_take_a_slot(store: Store) -> None:
    """Two overlapping creates racing: exactly one wins."""
    studio = await store.create_studio("A", T0)
    results = await asyncio.gather(
        *(store.create_session(a_session(studio.id, start_minutes=i), f"h{i}") for i in range(4)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Session) for r in results) == 1
    assert all(isinstance(r, (Session, ScheduleOverlap)) for r in results)


async def test_transition_records_times_and_refuses_bad_steps(store: Store) -> None:
    """Going live and ending stamp the times; a bad step changes nothing."""
    studio = await store.create_studio("A", T0)
    session = await store.create_session(a_session(studio.id), "h1")
    _, live = await store.transition_session(session.id, SessionEvent.GO_LIVE, T0)
    assert (live.state, live.went_live_at) == (SessionState.LIVE, T0)
    with pytest.raises(InvalidTransition):
        await store.transition_session(session.id, SessionEvent.CANCEL, T0)
    _, ended = await store.transition_session(session.id, SessionEvent.END, T0 + timedelta(hours=1))
    assert ended.ended_at == T0 + timedelta(hours=1)
    assert (await store.get_session(session.id)).state is SessionState.ENDED


async def test_unknown_ids_are_not_found(store: Store) -> None:
    """Every lookup by a missing id raises NotFound naming it."""
    with pytest.raises(NotFound, match="session 'ses_nope' does not exist"):
        await store.get_session("ses_nope")
    with pytest.raises(NotFound):
        await store.transition_session("ses_nope", SessionEvent.END, T0)
    with pytest.raises(NotFound, match="studio 'std_nope'"):
        await store.create_session(a_session("std_nope"), "h")
    with pytest.raises(NotFound):
        await store.revoke_token("tok_nope")


async def test_studio_names_unique_and_delete_needs_empty_studio(store: Store) -> None:
    """Duplicate names clash; a studio with sessions cannot be deleted."""
    studio = await store.create_studio("A", T0)
    with pytest.raises(Conflict, match="a studio named 'A' already exists"):
        await store.create_studio("A", T0)
    session = await store.create_session(a_session(studio.id), "h1")
    with pytest.raises(Conflict, match="still has 1 session"):
        await store.delete_studio(studio.id)
    await store.delete_session(session.id)
    await store.delete_studio(studio.id)
    assert await store.list_studios() == []


async def test_failed_update_leaves_the_row_unchanged(store: Store) -> None:
    """An update refused for overlap writes nothing."""
    studio = await store.create_studio("A", T0)
    first = await store.create_session(a_session(studio.id), "h1")
    second = await store.create_session(a_session(studio.id, start_minutes=60), "h2")
    moved = msgspec.structs.replace(second, starts_at=first.starts_at, title="moved")
    with pytest.raises(ScheduleOverlap):
        await store.update_session(moved)
    assert await store.get_session(second.id) == second


async def test_tokens_and_web_sessions(store: Store) -> None:
    """Tokens are found by hash only; revoking one ends its browser sign-ins."""
    token = ApiToken(id="tok_1", role=Role.OPERATOR, name="op", studio_ids=(), created_at=T0)
    await store.create_token(token, hash_secret("secret"))
    assert await store.token_by_hash(hash_secret("secret")) == token
    assert await store.token_by_hash("secret") is None
    await store.create_web_session("ws_hash", token.id, T0 + timedelta(hours=1))
    assert (await store.web_session("ws_hash", T0)) is not None
    assert await store.web_session("ws_hash", T0 + timedelta(hours=2)) is None
    await store.revoke_token(token.id)
    assert await store.web_session("ws_hash", T0) is None
    assert await store.token_by_hash(hash_secret("secret")) is None


async def test_claim_is_granted_once(store: Store) -> None:
    """Only the first claim of a key succeeds (first-start work runs once)."""
    results = await asyncio.gather(*(store.claim("boot", str(i)) for i in range(5)))
    assert results.count(True) == 1
    assert await store.get_meta("boot") is not None


async def test_unreachable_database_is_store_unavailable() -> None:
    """A PostgreSQL URL nobody answers maps to StoreUnavailable, not a driver error."""
    with pytest.raises(StoreUnavailable, match="cannot open the store"):
        await Store.open("postgresql+asyncpg://torget@127.0.0.1:1/torget")


async def test_an_import_writes_its_plan_or_nothing(store: Store) -> None:
    """The plan made from the rows read is written in that transaction; a refused plan leaves
    the store as it was."""
    studio = await store.create_studio("Hall", T0)
    stored = await store.create_session(a_session(studio.id), hash_secret("sk_1"))
    defaults = ImportDefaults(now=T0, language="sv", auto_start=True)
    hour = timedelta(hours=1)
    doc = ProgramDocument(
        sessions=[
            ProgramSession(id=stored.id, studio="Hall", title="Moved", starts_at=T0 + hour,
                           ends_at=T0 + 2 * hour),
            ProgramSession(studio="Annex", title="A", starts_at=T0, ends_at=T0 + hour),
            ProgramSession(studio="Annex", title="B", starts_at=T0 + hour, ends_at=T0 + 2 * hour),
        ]
    )  # fmt: skip
    seen: list[tuple[list[Studio], list[Session]]] = []

    def plan(studios: list[Studio], sessions: list[Session]) -> ImportPlan:
        seen.append((studios, sessions))
        return plan_import(doc, studios, sessions, defaults)

    written = await store.apply_import(plan)
    assert seen == [([studio], [stored])]
    assert (await store.get_session(stored.id)).title == "Moved"
    assert [s.name for s in await store.list_studios()] == ["Annex", "Hall"]
    for created, key_hash in written.created:
        assert key_hash == no_stream_key(created.id)
        assert await store.session_by_stream_key_hash(key_hash) == created
    clash = msgspec.structs.replace(doc, sessions=[*doc.sessions, doc.sessions[1]])
    with pytest.raises(ScheduleOverlap):
        await store.apply_import(lambda st, se: plan_import(clash, st, se, defaults))
    assert len(await store.list_sessions()) == 3


async def test_store_claims_refreshes_and_reads_owners(tmp_path: Path) -> None:
    """A claim replaces the previous owner under the next epoch (every claim is kept); a
    refresh touches only the refreshing node's rows and names them with their epochs."""
    store = await Store.open(sqlite_url(tmp_path))
    try:
        studio = await store.create_studio("Hall", T0)
        s1 = (await store.create_session(a_session(studio.id), "hash1")).id
        s2 = (await store.create_session(a_session(studio.id, start_minutes=60), "hash2")).id
        assert await store.media_owner(s1) is None
        assert await store.claim_media(s1, ME, "node_a", T0) == 1
        assert await store.claim_media(s2, ME, "node_a", T0) == 1
        assert await store.claim_media(s2, OTHER, "node_b", T0) == 2
        owner = await store.media_owner(s2)
        assert owner is not None
        assert (owner.node_url, owner.node_id, owner.epoch) == (OTHER, "node_b", 2)
        claims = await store.media_claims(s2)
        assert [(c.epoch, c.node_url) for c in claims] == [(1, ME), (2, OTHER)]
        assert await store.refresh_media(ME, T0 + timedelta(seconds=5)) == {s1: 1}
        first, second = await store.media_owner(s1), await store.media_owner(s2)
        assert first is not None
        assert first.updated_at == T0 + timedelta(seconds=5)
        assert second is not None
        assert second.updated_at == T0
    finally:
        await store.close()


async def test_the_store_keeps_destinations_per_session(store: Store) -> None:
    """Destinations round-trip with their URL, are limited per session, change, and go with
    their session; a destination of another session is not found through this one."""
    studio = await store.create_studio("Hall", T0)
    one = await store.create_session(a_session(studio.id), hash_secret("sk_1"))
    two = await store.create_session(a_session(studio.id, 60), hash_secret("sk_2"))
    first = Destination(
        id="rst_1", session_id=one.id, name="YouTube", url=f"rtmp://h/live2/{KEY}",
        enabled=True, created_at=T0, updated_at=T0,
    )  # fmt: skip
    assert await store.add_destination(first, limit=2) == first
    assert KEY not in repr(first)
    await store.add_destination(
        Destination(id="rst_2", session_id=one.id, name="FB", url="rtmps://f:443/rtmp/k",
                    enabled=False, created_at=T0 + timedelta(seconds=1), updated_at=T0),
        limit=2,
    )  # fmt: skip
    with pytest.raises(Conflict, match="at most 2 restream destinations"):
        await store.add_destination(
            Destination(id="rst_3", session_id=one.id, name="X", url="rtmp://h/a/b",
                        enabled=True, created_at=T0, updated_at=T0),
            limit=2,
        )  # fmt: skip
    with pytest.raises(NotFound):
        await store.add_destination(
            Destination(id="rst_4", session_id="ses_none", name="X", url="rtmp://h/a/b",
                        enabled=True, created_at=T0, updated_at=T0),
            limit=2,
        )  # fmt: skip
    assert [d.id for d in await store.list_destinations(one.id)] == ["rst_1", "rst_2"]
    assert await store.get_destination(one.id, "rst_1") == first
    with pytest.raises(NotFound):
        await store.get_destination(two.id, "rst_1")
    later = T0 + timedelta(minutes=5)
    changed = await store.update_destination(one.id, "rst_1", later, enabled=False)
    assert (changed.enabled, changed.name, changed.updated_at) == (False, "YouTube", later)
    with pytest.raises(NotFound):
        await store.update_destination(two.id, "rst_1", later, name="Moved")
    with pytest.raises(NotFound):
        await store.delete_destination(two.id, "rst_2")
    await store.delete_destination(one.id, "rst_2")
    await store.delete_session(one.id)
    assert await store.list_destinations(one.id) == []
