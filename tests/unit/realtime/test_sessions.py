"""The per-node cache of the sessions joins read: one read per change, misses shared, reads
a change overtook dropped, every entry dropped after an engine outage."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from realtime.sessions import SessionCache
from studio.errors import NotFound
from studio.interaction.facts import SessionChanged, SignInEnded, encode_fact
from studio.models import Session
from studio.states import SessionState

T0 = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)


def a_session(session_id: str, *, auto_approve: bool = False) -> Session:
    return Session(
        id=session_id, studio_id="std_1", title="Panel", description="", speakers=(),
        language="sv", starts_at=T0, ends_at=T0, state=SessionState.SCHEDULED,
        auto_start=False, auto_end=False, qa_auto_approve=auto_approve,
        created_at=T0, updated_at=T0,
    )  # fmt: skip


class Store:
    """Sessions by id; with ``gate`` set, a read answers (what it read when it began) only once
    the gate opens (a slow store)."""

    def __init__(self) -> None:
        self.sessions = {"ses_1": a_session("ses_1")}
        self.gate: asyncio.Event | None = None

    async def load(self, session_id: str) -> Session:
        found = self.sessions.get(session_id)  # what the store holds when the read begins
        if self.gate is not None:
            await self.gate.wait()
        if found is None:
            raise NotFound("session", session_id)
        return found


def changed(session_id: str) -> bytes:
    return encode_fact(
        SessionChanged(session_id=session_id, state="live", starts_at="", ends_at="")
    )


async def test_joins_read_a_session_once_until_it_changes() -> None:
    """Many joins, one read; a change here, a change elsewhere (the event room's fact) or an
    engine that comes back each make the next join read again; other facts change nothing."""
    store = Store()
    cache = SessionCache(store.load)
    for _ in range(100):
        assert (await cache.get("ses_1")).id == "ses_1"
    assert cache.reads == 1
    store.sessions["ses_1"] = a_session("ses_1", auto_approve=True)
    await cache.changed(store.sessions["ses_1"])
    assert (await cache.get("ses_1")).qa_auto_approve is True
    cache.on_event("1-1", encode_fact(SignInEnded(token_id="tok")))
    cache.on_event("1-2", b"not a fact")
    await cache.get("ses_1")
    assert cache.reads == 2
    cache.on_event("1-3", changed("ses_1"))
    await cache.get("ses_1")
    cache.on_status(False)
    await cache.get("ses_1")
    assert cache.reads == 3
    cache.on_status(True)
    await cache.get("ses_1")
    assert cache.reads == 4


async def test_concurrent_misses_share_one_read() -> None:
    """A storm of joins of a session not yet cached waits for one read."""
    store = Store()
    store.gate = asyncio.Event()
    cache = SessionCache(store.load)
    joins = [asyncio.create_task(cache.get("ses_1")) for _ in range(500)]
    await asyncio.sleep(0)
    store.gate.set()
    assert {s.id for s in await asyncio.gather(*joins)} == {"ses_1"}
    assert cache.reads == 1


async def test_a_read_overtaken_by_a_change_is_not_kept() -> None:
    """A change that lands while the session is being read: the joins that asked before get
    what was read, those that ask after read again, and only the newer record is kept."""
    store = Store()
    store.gate = asyncio.Event()
    cache = SessionCache(store.load)
    before = asyncio.create_task(cache.get("ses_1"))
    for _ in range(3):  # the join asks, the read begins
        await asyncio.sleep(0)
    cache.on_event("1-1", changed("ses_1"))
    store.sessions["ses_1"] = a_session("ses_1", auto_approve=True)
    after = asyncio.create_task(cache.get("ses_1"))  # asked after the change: reads again
    await asyncio.sleep(0)
    store.gate.set()
    assert (await before).qa_auto_approve is False
    assert (await after).qa_auto_approve is True
    assert cache.reads == 2
    await cache.get("ses_1")
    assert cache.holds("ses_1")
    assert cache.reads == 2


async def test_an_unknown_session_is_remembered_until_it_is_created() -> None:
    """NotFound is kept like a session (a storm of joins of a bad id reads once) until the
    session's creation is announced."""
    store = Store()
    cache = SessionCache(store.load)
    for _ in range(3):
        with pytest.raises(NotFound) as missing:
            await cache.get("ses_2")
    assert missing.value.message == "session 'ses_2' does not exist"
    assert cache.reads == 1
    store.sessions["ses_2"] = a_session("ses_2")
    cache.on_event("1-1", changed("ses_2"))
    assert (await cache.get("ses_2")).id == "ses_2"


async def test_entries_expire() -> None:
    """A change no listener hears (an import) is seen once the entry's time is up."""
    now = [0.0]
    store = Store()
    cache = SessionCache(store.load, ttl=15.0, clock=lambda: now[0])
    await cache.get("ses_1")
    now[0] = 14.9
    await cache.get("ses_1")
    assert cache.reads == 1
    now[0] = 15.1
    await cache.get("ses_1")
    assert cache.reads == 2
