"""What an import writes: studios matched by name, sessions by id, free slots, no stream keys."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from studio.errors import ScheduleOverlap
from studio.program_io import (
    ImportDefaults,
    ImportResult,
    ProgramDocument,
    ProgramSession,
    ProgramStudio,
    plan_import,
)
from studio.secrets import hash_secret, no_stream_key
from studio.states import SessionState
from tests.support.harness import T0
from tests.support.programme_docs import session, studio

LATER = T0 + timedelta(days=1)
DEFAULTS = ImportDefaults(now=LATER, language="fi", auto_start=False)


def entry(studio_name: str, minutes: int, **fields: object) -> ProgramSession:
    """A 45-minute session of the document starting ``minutes`` after T0."""
    start = T0 + timedelta(minutes=minutes)
    base = ProgramSession(
        studio=studio_name, title="Talk", starts_at=start, ends_at=start + timedelta(minutes=45)
    )
    return msgspec.structs.replace(base, **fields)


def test_studios_are_matched_by_name_and_new_ones_made_in_order_of_mention() -> None:
    """A known name keeps its studio; unknown names become studios, listed ones first."""
    doc = ProgramDocument(
        studios=[ProgramStudio("Norr")],
        sessions=[entry("Stora scenen", 0), entry("Partner", 0), entry("Norr", 60)],
    )
    plan = plan_import(doc, [studio("std_s", "Stora scenen")], [], DEFAULTS)
    assert [s.name for s in plan.new_studios] == ["Norr", "Partner"]
    assert {s.created_at for s in plan.new_studios} == {LATER}
    by_name = {s.name: s.id for s in plan.new_studios} | {"Stora scenen": "std_s"}
    assert [s.studio_id for s, _ in plan.created] == [
        by_name["Stora scenen"],
        by_name["Partner"],
        by_name["Norr"],
    ]
    assert plan.result() == ImportResult(2, 3, 0)


def test_new_sessions_take_the_defaults_and_store_no_stream_key() -> None:
    """A new session gets the event's language and auto start, and a key column no key opens."""
    doc = ProgramDocument(sessions=[entry("A", 0, state="cancelled"), entry("A", 60, id="ses_x")])
    plan = plan_import(doc, [], [], DEFAULTS)
    (first, first_key), (second, second_key) = plan.created
    assert (first.language, first.auto_start, first.state) == ("fi", False, SessionState.CANCELLED)
    assert (second.id, second.state, second.created_at) == ("ses_x", SessionState.SCHEDULED, LATER)
    assert (first_key, second_key) == (no_stream_key(first.id), no_stream_key("ses_x"))
    assert len({first_key, second_key, hash_secret(first_key)}) == 3


def test_a_known_id_updates_and_keeps_what_happened_on_air() -> None:
    """An existing session takes the document's fields but keeps its state and history."""
    aired = session(
        "ses_1",
        "std_a",
        "Old title",
        timedelta(0),
        state=SessionState.ENDED,
        went_live_at=T0,
        ended_at=T0 + timedelta(minutes=40),
        qa_auto_approve=True,
    )
    doc = ProgramDocument(sessions=[entry("A", 10, id="ses_1", title="New title", language="sv")])
    plan = plan_import(doc, [studio("std_a", "A")], [aired], DEFAULTS)
    assert (plan.new_studios, plan.created) == ([], [])
    (updated,) = plan.updated
    assert (updated.title, updated.language, updated.starts_at) == (
        "New title",
        "sv",
        T0 + timedelta(minutes=10),
    )
    assert (updated.state, updated.went_live_at, updated.qa_auto_approve) == (
        SessionState.ENDED,
        T0,
        True,
    )
    assert (updated.created_at, updated.updated_at) == (T0, LATER)


def test_a_taken_slot_is_refused_naming_the_place_in_the_document() -> None:
    """An overlap with a stored session, or one placed earlier in the file, names sessions[i]."""
    stored = session("ses_1", "std_a", "Keynote", timedelta(0))
    cancelled = session("ses_2", "std_a", "Off", timedelta(hours=2), state=SessionState.CANCELLED)
    known = [studio("std_a", "A")]
    with pytest.raises(ScheduleOverlap) as caught:
        plan_import(ProgramDocument(sessions=[entry("A", 30)]), known, [stored], DEFAULTS)
    assert caught.value.other_id == "ses_1"
    assert caught.value.message.endswith("; in sessions[0]) at that time")
    twice = ProgramDocument(sessions=[entry("A", 120), entry("A", 150)])
    with pytest.raises(ScheduleOverlap, match=r"in sessions\[1\]"):
        plan_import(twice, known, [stored, cancelled], DEFAULTS)
    moved = ProgramDocument(sessions=[entry("A", 20, id="ses_1"), entry("A", 120)])
    assert plan_import(moved, known, [stored, cancelled], DEFAULTS).result() == ImportResult(
        0, 1, 1
    )
