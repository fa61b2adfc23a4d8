"""This node's side of media ownership on a real store: claims take epochs and note them
beside the runs, the recording's fence, and look-ups while the store is away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from streaming import owners as owners_module
from streaming.errors import OwnerUnknown
from streaming.owners import MediaOwners
from streaming.vod import CLAIMS, ClaimEntry, parse_claims
from studio.errors import Fenced
from studio.states import RecordingState
from studio.store import RecordingRecord, Store
from tests.support.harness import T0
from tests.support.programme import a_session

ME = "http://torget-1:8080"
OTHER = "http://torget-2:8080"


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A SQLite store in a directory of its own (renamed away to make it unavailable)."""
    opened = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'db' / 'torget.db'}")
    try:
        yield opened
    finally:
        await opened.close()


async def a_session_id(store: Store, hour: int = 0) -> str:
    studio = await store.create_studio(f"Hall {hour}", T0)
    session = await store.create_session(a_session(studio.id, start_minutes=60 * hour), f"h{hour}")
    return session.id


async def test_each_claim_takes_the_next_epoch_and_notes_where_its_runs_begin(
    store: Store, tmp_path: Path
) -> None:
    """A claim returns its epoch and notes beside the session's files the first run made
    under it: after every run and journal entry there when the previous epoch was this node's,
    else beyond every number earlier owners used; another node's claim takes the next epoch."""
    sid = await a_session_id(store)
    here = MediaOwners(store, node_url=ME, node_id="node_1")
    there = MediaOwners(store, node_url=OTHER, node_id="node_2")
    directory = tmp_path / "media" / sid
    assert await here.claim(sid, directory) == 1
    (directory / "r0001_0_init.mp4").write_bytes(b"")
    (directory / "runs.jsonl").write_bytes(b'{"run": 2, "kind": "ingest"}\n')
    assert await there.claim(sid, tmp_path / "other" / sid) == 2
    assert parse_claims((tmp_path / "other" / sid / CLAIMS).read_bytes()) == [ClaimEntry(2, 101)]
    assert await here.claim(sid, directory) == 3
    assert await here.claim(sid, directory) == 4
    assert parse_claims((directory / CLAIMS).read_bytes()) == [
        ClaimEntry(1, 1),
        ClaimEntry(3, 201),
        ClaimEntry(4, 201),
    ]


async def test_the_recording_is_built_only_under_the_last_claim(
    store: Store, tmp_path: Path
) -> None:
    """No claim: build unfenced; this node's claim: its epoch; after another node's claim this
    node is fenced (at the start and at every check), and that node sees this one as earlier."""
    sid = await a_session_id(store)
    here = MediaOwners(store, node_url=ME, node_id="node_1")
    there = MediaOwners(store, node_url=OTHER + "/", node_id="node_2")
    assert await here.build_epoch(sid) is None
    await here.check(sid, None)
    epoch = await here.claim(sid, tmp_path / sid)
    assert await here.build_epoch(sid) == epoch
    await here.check(sid, epoch)
    await there.claim(sid, tmp_path / "other")
    with pytest.raises(Fenced) as fenced:
        await here.build_epoch(sid)
    assert fenced.value.message == (
        f"session {sid}: its media is held under a newer claim (epoch 2); "
        "this node writes nothing more of it"
    )
    with pytest.raises(Fenced):
        await here.check(sid, epoch)
    assert await there.earlier_nodes(sid) == {ME: [1]}
    assert await here.earlier_nodes(sid) == {OTHER: [2]}


async def test_the_store_refuses_a_recording_record_of_a_replaced_claim(store: Store) -> None:
    """A record written under the current epoch (or none) is kept; one under an older epoch
    is refused with ``Fenced`` and changes nothing."""
    sid = await a_session_id(store)
    first = await store.claim_media(sid, ME, "node_1", T0)
    record = RecordingRecord(sid, RecordingState.READY, "", 8.8, None, None, T0, epoch=first)
    await store.save_recording(record)
    second = await store.claim_media(sid, OTHER, "node_2", T0)
    with pytest.raises(Fenced):
        await store.save_recording(record)
    newer = RecordingRecord(sid, RecordingState.READY, "", 31.0, None, None, T0, epoch=second)
    await store.save_recording(newer)
    with pytest.raises(Fenced):
        await store.save_recording(record)
    saved = await store.get_recording(sid)
    assert saved is not None
    assert (saved.duration, saved.epoch) == (31.0, 2)


async def test_while_the_store_is_away_the_owner_it_named_last_is_used(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A look-up the store answered within ``KNOWN_FOR_S`` still holds while the store cannot
    be reached (nobody can claim meanwhile); a session never looked up raises OwnerUnknown."""
    monkeypatch.setattr(owners_module, "LOOKUP_TTL_S", 0.0)
    known, unknown = await a_session_id(store, 0), await a_session_id(store, 1)
    here = MediaOwners(store, node_url=ME, node_id="node_1")
    await MediaOwners(store, node_url=OTHER, node_id="node_2").claim(known, tmp_path / known)
    assert await here.owner_elsewhere(known) == OTHER
    await store.close()
    (tmp_path / "db").rename(tmp_path / "gone")
    assert await here.owner_elsewhere(known) == OTHER
    with pytest.raises(OwnerUnknown):
        await here.owner_elsewhere(unknown)
    monkeypatch.setattr(owners_module, "KNOWN_FOR_S", 0.0)
    with pytest.raises(OwnerUnknown):
        await here.owner_elsewhere(known)
