"""The scheduler moving real sessions in a real store, driven by a clock the test moves."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from studio.models import Session, SessionInput, StudioInput
from studio.schedule import Decision
from studio.service import Programme
from studio.states import SessionEvent, SessionState
from tests.support.harness import T0
from tests.support.programme import ADMIN, clock, schedule


async def test_connected_ingest_goes_live_at_start_and_ends_after_grace(
    programme: Programme,
) -> None:
    """Ready before the start; live at the start; ended at end + grace; not a tick earlier."""
    session_id = await schedule(programme)
    await programme.ingest_up(session_id)
    assert await programme.tick() == []
    clock(programme).current = T0
    assert await programme.tick() == [Decision(session_id, SessionEvent.GO_LIVE, "planned start")]
    assert (await programme.store.get_session(session_id)).state is SessionState.LIVE
    clock(programme).current = T0 + timedelta(minutes=49, seconds=59)
    assert await programme.tick() == []
    clock(programme).current = T0 + timedelta(minutes=50)
    assert [d.event for d in await programme.tick()] == [SessionEvent.END]
    ended = await programme.store.get_session(session_id)
    assert (ended.state, ended.ended_at) == (SessionState.ENDED, T0 + timedelta(minutes=50))


async def test_an_ingest_connecting_after_the_start_goes_live_at_once(
    programme: Programme,
) -> None:
    """An auto-starting session whose start has come goes live as its ingest connects (no
    wait for the next tick); one with auto_start false, or before its start, stays ready."""

    async def in_own_studio(name: str, *, auto_start: bool = True) -> str:
        studio = await programme.create_studio(ADMIN, StudioInput(name=name))
        data = SessionInput(studio_id=studio.id, title="Panel", starts_at=T0,
                            ends_at=T0 + timedelta(minutes=45), auto_start=auto_start)  # fmt: skip
        return (await programme.create_session(ADMIN, data)).session.id

    early, manual = await in_own_studio("Early"), await in_own_studio("Manual", auto_start=False)
    late = await in_own_studio("Late")
    assert (await programme.ingest_up(early)).state is SessionState.READY
    clock(programme).current = T0 + timedelta(minutes=2)
    assert (await programme.ingest_up(manual)).state is SessionState.READY
    assert (await programme.ingest_up(late)).state is SessionState.LIVE
    assert (await programme.store.get_session(late)).went_live_at == T0 + timedelta(minutes=2)
    assert [(d.session_id, d.event) for d in await programme.tick()] == [
        (early, SessionEvent.GO_LIVE)
    ]


async def test_extended_session_is_not_ended(programme: Programme) -> None:
    """An operator's extension moves the end the scheduler works from."""
    session_id = await schedule(programme)
    clock(programme).current = T0
    await programme.go_live(ADMIN, session_id)
    await programme.extend(ADMIN, session_id, 30)
    clock(programme).current = T0 + timedelta(minutes=60)
    assert await programme.tick() == []
    clock(programme).current = T0 + timedelta(minutes=80)
    assert [d.event for d in await programme.tick()] == [SessionEvent.END]


async def test_no_ingest_no_auto_start(programme: Programme) -> None:
    """Without a connected ingest the session waits; after its slot it is ended as missed."""
    session_id = await schedule(programme)
    clock(programme).current = T0 + timedelta(minutes=1)
    assert await programme.tick() == []
    clock(programme).current = T0 + timedelta(minutes=51)
    assert await programme.tick() == [
        Decision(session_id, SessionEvent.END, "missed: never went live")
    ]


async def test_auto_start_off_waits_for_the_operator(programme: Programme) -> None:
    """A session with auto_start false stays ready at its start."""
    session_id = await schedule(programme, auto_start=False)
    await programme.ingest_up(session_id)
    clock(programme).current = T0 + timedelta(minutes=1)
    assert await programme.tick() == []
    assert (await programme.store.get_session(session_id)).state is SessionState.READY


async def test_two_nodes_ticking_apply_each_step_once(programme: Programme) -> None:
    """Two schedulers on one store: the second finds the step done and skips it."""
    session_id = await schedule(programme)
    await programme.ingest_up(session_id)
    other = Programme(programme.store, programme.settings, programme.clock)
    clock(programme).current = T0
    first, second = await programme.tick(), await other.tick()
    assert len(first) == 1
    assert second == []


async def test_listeners_hear_every_change(programme: Programme) -> None:
    """Session listeners get the new record on create and on each step."""
    heard: list[SessionState] = []

    async def listen(session: Session) -> None:
        heard.append(session.state)

    programme.on_session_change(listen)
    session_id = await schedule(programme)
    await programme.ingest_up(session_id)
    await programme.go_live(ADMIN, session_id)
    assert heard == [SessionState.SCHEDULED, SessionState.READY, SessionState.LIVE]


async def test_scheduler_loop_applies_due_steps_and_counts_them(programme: Programme) -> None:
    """The node's loop ticks by itself and counts each applied step in the metrics."""
    from web.app import run_scheduler
    from web.metrics import Metrics

    session_id = await schedule(programme)
    await programme.ingest_up(session_id)
    clock(programme).current = T0
    metrics = Metrics()
    went_live = asyncio.Event()

    async def listen(session: Session) -> None:
        if session.state is SessionState.LIVE:
            went_live.set()

    programme.on_session_change(listen)
    task = asyncio.create_task(run_scheduler(programme, metrics))
    try:
        async with asyncio.timeout(10):
            await went_live.wait()
    finally:
        task.cancel()
    assert b'torget_scheduler_steps_total{event="go_live"} 1.0' in metrics.render()
