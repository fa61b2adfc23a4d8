"""Programme files: YAML and CSV import and export, the demo programme, and rebasing by days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.settings import DEMO_PROGRAM_FILE
from studio.errors import InvalidInput
from studio.models import Session, Studio
from studio.program_io import (
    ProgramDocument,
    ProgramSession,
    ProgramStudio,
    document_from,
    parse_csv,
    parse_yaml,
    rebase,
    shift_to_start,
    to_csv,
    to_yaml,
)
from studio.states import SessionState

STOCKHOLM = ZoneInfo("Europe/Stockholm")
T0 = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)  # 09:00 in Stockholm
HEADER = "studio,title,starts_at,ends_at"


def studio(ident: str, name: str) -> Studio:
    """A studio record."""
    return Studio(id=ident, name=name, created_at=T0)


def session(ident: str, studio_id: str, title: str, start: timedelta, **extra: Any) -> Session:
    """A 45-minute session record starting ``start`` after T0."""
    fields: dict[str, Any] = {
        "description": "",
        "speakers": (),
        "language": "sv",
        "state": SessionState.SCHEDULED,
        "auto_start": True,
        "auto_end": True,
    }
    fields.update(extra)
    return Session(
        id=ident,
        studio_id=studio_id,
        title=title,
        starts_at=T0 + start,
        ends_at=T0 + start + timedelta(minutes=45),
        created_at=T0,
        updated_at=T0,
        **fields,
    )


def store_document() -> ProgramDocument:
    """An export of store records, with awkward text, a cancelled session and an empty studio."""
    studios = [
        studio("std_b", "Stora scenen"),
        studio("std_a", "Studio Norr"),
        studio("std_c", "Tom"),
    ]
    sessions = [
        session("ses_2", "std_b", "Later", timedelta(hours=1), auto_start=False, auto_end=False),
        session(
            "ses_1",
            "std_b",
            '=HYPERLINK("http://evil") ; "quoted", title',
            timedelta(0),
            description="- first point\n- second; point\r\nthird: yes\n",
            speakers=("Anna Öberg", "Bo; the second", "C\\D"),
            language="en-GB",
            state=SessionState.CANCELLED,
        ),
        session("ses_3", "std_a", "yes", timedelta(0), speakers=("@handle",), language="fi"),
    ]
    return document_from(studios, sessions, event="Torget demo fair", timezone="Europe/Stockholm")


def demo() -> ProgramDocument:
    """The shipped demo programme."""
    return parse_yaml(DEMO_PROGRAM_FILE.read_text(encoding="utf-8"))


GOOD = {"studio": "Stora scenen", "title": "Opening"} | {
    "starts_at": "2026-05-20T09:00:00+02:00",
    "ends_at": "2026-05-20T09:45:00+02:00",
}
FIRST_YAML = (
    "sessions:\n"
    "  - {id: a, studio: X, title: T, starts_at: 2026-05-20T08:00:00Z,"
    " ends_at: 2026-05-20T08:30:00Z}\n"
)


def yaml_session(**fields: str) -> str:
    """A valid first session (id ``a``), then ``sessions[1]`` with raw YAML ``fields`` applied."""
    values = GOOD | fields
    lines = [f"    {key}: {value}" for key, value in values.items() if value != "<absent>"]
    return FIRST_YAML + "  -\n" + "\n".join(lines) + "\n"


def csv_row(**cells: str) -> str:
    """A header, a valid row (line 2), then a row (line 3) with ``cells`` applied."""
    values = GOOD | cells
    first = {"studio": "X", "title": "T"} | {
        "starts_at": "2026-05-20T08:00:00Z",
        "ends_at": "2026-05-20T08:30:00Z",
    }
    rows = [list(values), [first.get(key, "") for key in values], list(values.values())]
    return "".join(",".join(row) + "\r\n" for row in rows)


# --- round trips ------------------------------------------------------------------------------


def test_yaml_round_trip_of_a_store_export_is_exact() -> None:
    """Exported YAML parses back to an equal document, hostile text and all."""
    doc = store_document()
    assert parse_yaml(to_yaml(doc)) == doc


def test_csv_round_trip_of_a_store_export_is_exact() -> None:
    """Exported CSV parses back to an equal document when given the event and its zone."""
    doc = store_document()
    assert parse_csv(to_csv(doc), event=doc.event, timezone=doc.timezone) == doc


def test_round_trips_of_parsed_documents_are_exact() -> None:
    """A parsed YAML or CSV document survives export and parse in both formats."""
    from_yaml = demo()
    assert parse_yaml(to_yaml(from_yaml)) == from_yaml
    from_csv = parse_csv(to_csv(from_yaml))
    assert parse_csv(to_csv(from_csv)) == from_csv
    assert from_csv.sessions == from_yaml.sessions


def test_document_from_names_studios_and_sorts_in_event_zone() -> None:
    """Export resolves studio names, sorts by start then studio, and writes local offsets."""
    doc = store_document()
    assert [s.name for s in doc.studios] == ["Stora scenen", "Studio Norr", "Tom"]
    assert [(s.id, s.studio) for s in doc.sessions] == [
        ("ses_1", "Stora scenen"),
        ("ses_3", "Studio Norr"),
        ("ses_2", "Stora scenen"),
    ]
    first = doc.sessions[0]
    assert first.starts_at.isoformat() == "2026-05-20T09:00:00+02:00"
    assert (first.state, first.language, first.auto_start) == ("cancelled", "en-GB", True)
    assert "starts_at: '2026-05-20T09:00:00+02:00'" in to_yaml(doc)


def test_yaml_export_omits_defaults() -> None:
    """Fields left at their defaults are not written, so hand-edited files stay short."""
    doc = ProgramDocument(
        studios=[ProgramStudio("A")],
        sessions=[ProgramSession(studio="A", title="T", starts_at=T0, ends_at=T0 + timedelta(1))],
    )
    assert to_yaml(doc) == (
        "event: ''\ntimezone: UTC\nstudios:\n- name: A\nsessions:\n- studio: A\n  title: T\n"
        "  starts_at: '2026-05-20T07:00:00+00:00'\n  ends_at: '2026-05-21T07:00:00+00:00'\n"
    )


# --- the demo programme -----------------------------------------------------------------------


def test_demo_programme_has_three_studios_and_thirty_sessions_without_overlaps() -> None:
    """The shipped demo parses, spans two days 09:00-17:00 and never double-books a studio."""
    doc = demo()
    assert doc.timezone == "Europe/Stockholm"
    assert [s.name for s in doc.studios] == ["Stora scenen", "Studio Norr", "Partnerkanalen"]
    assert len(doc.sessions) == 30
    days = {s.starts_at.date() for s in doc.sessions}
    assert days == {date(2026, 5, 20), date(2026, 5, 21)}
    for entry in doc.sessions:
        assert entry.starts_at.hour >= 9
        assert (entry.ends_at.hour, entry.ends_at.minute) <= (17, 0)
        assert entry.language in {"sv", "fi", "nb", "en"}
        assert entry.speakers
        assert entry.description
        others = [o for o in doc.sessions if o.studio == entry.studio and o is not entry]
        clash = [o for o in others if o.starts_at < entry.ends_at and entry.starts_at < o.ends_at]
        assert clash == [], entry.title
    assert doc.sessions[0].title == "Opening: innovative municipalities"


# --- rebase -----------------------------------------------------------------------------------


def test_rebase_moves_the_first_day_and_keeps_wall_clock_times() -> None:
    """The earliest session lands on the given day; every session keeps its local time."""
    doc = demo()
    moved = rebase(doc, date(2027, 1, 11))
    assert moved.sessions[0].starts_at.isoformat() == "2027-01-11T09:00:00+01:00"
    assert {s.starts_at.date() for s in moved.sessions} == {date(2027, 1, 11), date(2027, 1, 12)}
    for before, after in zip(doc.sessions, moved.sessions, strict=True):
        assert after.starts_at.time() == before.starts_at.time()
        assert after.ends_at - after.starts_at == before.ends_at - before.starts_at
        assert (after.title, after.studio) == (before.title, before.studio)


def test_rebase_across_a_dst_change_keeps_local_times() -> None:
    """A programme moved onto the autumn clock change keeps 09:00 as 09:00 on both days."""
    moved = rebase(demo(), date(2026, 10, 24))  # Sunday 25 October: clocks go back
    first_day = [s for s in moved.sessions if s.starts_at.date() == date(2026, 10, 24)]
    second_day = [s for s in moved.sessions if s.starts_at.date() == date(2026, 10, 25)]
    assert first_day[0].starts_at.isoformat() == "2026-10-24T09:00:00+02:00"
    assert second_day[0].starts_at.isoformat() == "2026-10-25T09:00:00+01:00"
    assert second_day[0].starts_at.astimezone(UTC).hour == 8


def test_rebase_backwards_and_of_an_empty_document() -> None:
    """Moving to an earlier day works, and a document without sessions is returned as is."""
    moved = rebase(demo(), date(2026, 3, 28))  # the day before the spring change
    assert moved.sessions[-1].starts_at.isoformat() == "2026-03-29T13:00:00+02:00"
    empty = ProgramDocument()
    assert rebase(empty, date(2026, 1, 1)) is empty


# --- times ------------------------------------------------------------------------------------


def test_naive_times_are_read_in_the_files_timezone() -> None:
    """Without an offset, a time is local to the file's timezone, in either YAML form."""
    doc = parse_yaml(
        "timezone: Europe/Stockholm\nsessions:\n"
        "  - {studio: A, title: T, starts_at: 2026-05-20 09:00, ends_at: 2026-05-20 09:45:00}\n"
    )
    entry = doc.sessions[0]
    assert entry.starts_at == datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
    assert entry.ends_at == datetime(2026, 5, 20, 7, 45, tzinfo=UTC)
    assert entry.starts_at.utcoffset() == timedelta(hours=2)


def test_times_with_offsets_are_converted_to_the_files_timezone() -> None:
    """A time given in another offset, or in UTC, is the same instant shown in the file's zone."""
    doc = parse_yaml(
        "timezone: Europe/Helsinki\nsessions:\n"
        "  - {studio: A, title: T, starts_at: 2026-05-20T06:00:00Z,"
        " ends_at: '2026-05-20 09:00:00+02:00'}\n"
    )
    assert doc.sessions[0].starts_at.isoformat() == "2026-05-20T09:00:00+03:00"
    assert doc.sessions[0].ends_at.isoformat() == "2026-05-20T10:00:00+03:00"


def test_csv_naive_times_need_a_timezone_from_the_caller() -> None:
    """A CSV file has no timezone field: naive times are refused unless the caller names one."""
    text = f"{HEADER}\nA,T,2026-05-20 09:00,2026-05-20 10:00\n"
    with pytest.raises(InvalidInput) as caught:
        parse_csv(text)
    assert (caught.value.field, caught.value.problem) == (
        "row 2.starts_at",
        "must include a UTC offset, like 2026-05-20T09:00:00+02:00",
    )
    doc = parse_csv(text, timezone="Europe/Oslo", event="Fair")
    assert doc.sessions[0].starts_at == datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
    assert (doc.event, doc.timezone) == ("Fair", "Europe/Oslo")


# --- YAML specifics ---------------------------------------------------------------------------


def test_empty_yaml_file_is_an_empty_programme() -> None:
    """An empty file, or a mapping without sessions, is a valid empty programme."""
    assert parse_yaml("") == ProgramDocument()
    assert parse_yaml("event: Fair\nstudios: [A]\n") == ProgramDocument(
        event="Fair", studios=[ProgramStudio("A")]
    )


def test_studios_named_only_by_sessions_are_added_and_names_are_cleaned() -> None:
    """Studios may be listed as names or mappings; ones only sessions name are appended."""
    doc = parse_yaml(
        "studios: ['  B  ', {name: A}]\nsessions:\n"
        "  - {studio: ' C ', title: ' T ', starts_at: 2026-05-20T09:00:00Z,"
        " ends_at: 2026-05-20T10:00:00Z, speakers: [' Anna ']}\n"
    )
    assert [s.name for s in doc.studios] == ["B", "A", "C"]
    assert (doc.sessions[0].studio, doc.sessions[0].title) == ("C", "T")
    assert doc.sessions[0].speakers == ["Anna"]


def test_null_fields_count_as_absent() -> None:
    """``key:`` with no value means the default, for optional fields."""
    doc = parse_yaml(yaml_session(id="", description="", speakers="", auto_end="", language=""))
    entry = doc.sessions[1]
    assert (entry.id, entry.description, entry.speakers) == (None, "", [])
    assert (entry.auto_end, entry.language, entry.auto_start) == (True, None, None)


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        (
            "a: [1,",
            "",
            "the file is not valid YAML: expected the node content, but found "
            "'<stream end>' (line 1, column 7)",
        ),
        (
            "key: value\n  bad: x",
            "",
            "the file is not valid YAML: mapping values are not allowed here (line 2, column 6)",
        ),
        ("- 1", "", "the file must be a YAML mapping with studios and sessions"),
        ("csv: 1", "csv", "is not a known field"),
        ("event: [1]", "event", "must be text, not a list"),
        (
            "timezone: Mars/Base",
            "timezone",
            "must be an IANA time zone name, like Europe/Stockholm",
        ),
        ("timezone: Europe", "timezone", "must be an IANA time zone name, like Europe/Stockholm"),
        ("timezone: ''", "timezone", "must be an IANA time zone name, like Europe/Stockholm"),
        (
            "sessions: [{starts_at: 2026-02-30 09:00:00}]",
            "",
            "the file is not valid YAML: day is out of range for month",
        ),
        ("studios: x", "studios", "must be a list of studios"),
        ("studios: [{nam: x}]", "studios[0].nam", "is not a known field"),
        ("studios: [{name: null}]", "studios[0].name", "is required"),
        ("studios: [A, ' ']", "studios[1]", "must not be blank"),
        ("studios: [A, B, ' A']", "studios[2]", "repeats the name of studios[0]"),
        ("studios: [" + "n" * 101 + "]", "studios[0]", "must be at most 100 characters"),
        ("sessions: {}", "sessions", "must be a list of sessions"),
        ("sessions: [1]", "sessions[0]", "must be a mapping of session fields"),
    ],
)
def test_yaml_document_errors(text: str, field: str, problem: str) -> None:
    """Each problem with the file as a whole names its place and explains itself."""
    with pytest.raises(InvalidInput) as caught:
        parse_yaml(text)
    assert (caught.value.field, caught.value.problem) == (field, problem)


OFFSET = "must include a UTC offset, like 2026-05-20T09:00:00+02:00"
ISO = "must be an ISO 8601 date-time, like 2026-05-20T09:00:00+02:00"


@pytest.mark.parametrize(
    ("fields", "field", "problem"),
    [
        ({"room": "x"}, "room", "is not a known field"),
        ({"title": "<absent>"}, "title", "is required"),
        ({"studio": "null"}, "studio", "is required"),
        ({"title": "' '"}, "title", "must not be blank"),
        ({"title": '"a\\bb"'}, "title", "must not contain control characters"),
        ({"title": "x" * 201}, "title", "must be at most 200 characters"),
        ({"title": "2030"}, "title", "must be text, not a number"),
        ({"title": "yes"}, "title", "must be text, not true or false"),
        ({"studio": "n" * 101}, "studio", "must be at most 100 characters"),
        ({"id": "i" * 65}, "id", "must be at most 64 characters"),
        ({"id": "a"}, "id", "repeats the id of sessions[0]"),
        ({"description": "d" * 5001}, "description", "must be at most 5000 characters"),
        ({"speakers": "Anna"}, "speakers", "must be a list of names"),
        (
            {"speakers": "[" + ", ".join(["A"] * 31) + "]"},
            "speakers",
            "must list at most 30 speakers",
        ),
        ({"speakers": "[A, '']"}, "speakers[1]", "must not be blank"),
        ({"speakers": "[A, " + "s" * 121 + "]"}, "speakers[1]", "must be at most 120 characters"),
        ({"language": "EN!"}, "language", "must be a language tag like sv, fi, nb or en-GB"),
        ({"language": "12"}, "language", "must be a language tag like sv, fi, nb or en-GB"),
        ({"auto_start": "maybe"}, "auto_start", "must be true or false"),
        ({"auto_end": "1"}, "auto_end", "must be true or false"),
        (
            {"state": "canceled"},
            "state",
            "must be one of scheduled, ready, live, ended, replay, cancelled",
        ),
        ({"starts_at": "tomorrow"}, "starts_at", ISO),
        ({"starts_at": "2026-05-20"}, "starts_at", ISO),
        ({"starts_at": "'2026-05-20T25:00:00Z'"}, "starts_at", ISO),
        ({"starts_at": "1779260400"}, "starts_at", ISO),
        ({"ends_at": "2026-05-20T09:45:00"}, "ends_at", OFFSET + ", unless the file sets timezone"),
        ({"ends_at": "2026-05-20 09:45"}, "ends_at", OFFSET + ", unless the file sets timezone"),
        ({"ends_at": "2026-05-20T09:00:00+02:00"}, "ends_at", "must be after starts_at"),
        (
            {"ends_at": "2026-05-21T09:01:00+02:00"},
            "ends_at",
            "a session may last at most 24 hours",
        ),
    ],
)
def test_yaml_session_errors(fields: dict[str, str], field: str, problem: str) -> None:
    """Each kind of bad session field is refused with its path and a plain sentence."""
    with pytest.raises(InvalidInput) as caught:
        parse_yaml(yaml_session(**fields))
    assert (caught.value.field, caught.value.problem) == (f"sessions[1].{field}", problem)
    assert caught.value.message == f"sessions[1].{field}: {problem}"


# --- CSV specifics ----------------------------------------------------------------------------


def test_csv_formula_injection_is_neutralised_and_undone_on_import() -> None:
    """Cells a spreadsheet would run get a leading apostrophe, which import removes again."""
    titles = ["=1+2", "+46 8 123", "-minus", "@SUM(A1)", "'=quoted", "''+twice", "it's fine"]
    doc = ProgramDocument(
        studios=[ProgramStudio("=cmd|' /C calc'!A0")],
        sessions=[
            ProgramSession(
                studio="=cmd|' /C calc'!A0",
                title=title,
                starts_at=T0 + timedelta(hours=i),
                ends_at=T0 + timedelta(hours=i, minutes=30),
                description="\tindented",
                speakers=["@anna", "Bo"],
            )
            for i, title in enumerate(titles)
        ],
    )
    text = to_csv(doc)
    rows = text.split("\r\n")
    assert rows[1] == ",'=cmd|' /C calc'!A0,,,,,,,,,"
    cells = rows[2].split(",")
    assert cells[1:3] == ["'=cmd|' /C calc'!A0", "'=1+2"]
    assert cells[6:8] == ["'@anna; Bo", "'\tindented"]
    assert [row.split(",")[2] for row in rows[2:-1]] == [
        "'=1+2",
        "'+46 8 123",
        "'-minus",
        "'@SUM(A1)",
        "''=quoted",
        "'''+twice",
        "it's fine",
    ]
    assert parse_csv(text) == doc


def test_csv_speakers_split_on_semicolons_with_escapes() -> None:
    """Speakers are separated by ``;``; ``\\;`` and ``\\\\`` keep a semicolon or backslash."""
    row = "A,T,2026-05-20T09:00:00Z,2026-05-20T10:00:00Z,Anna; Bo\\; jr;; C\\\\D;"
    text = f"{HEADER},speakers\n{row}\n"
    assert parse_csv(text).sessions[0].speakers == ["Anna", "Bo; jr", "C\\D"]


def test_csv_rows_with_only_a_studio_list_studios() -> None:
    """A row holding nothing but a studio name declares a studio, even one without sessions."""
    text = f"{HEADER}\n,,,\nEmpty,,,\nA,T,2026-05-20T09:00:00Z,2026-05-20T10:00:00Z\n"
    doc = parse_csv(text)
    assert [s.name for s in doc.studios] == ["Empty", "A"]
    assert len(doc.sessions) == 1


def test_csv_with_semicolons_bom_header_case_and_column_order() -> None:
    """Nordic Excel files (``;`` separated, BOM, any column order and case) are read."""
    text = (
        "\ufeffTitle;Ends_At;STUDIO;starts_at;auto_start;auto_end;Language\r\n"
        "Öppning;2026-05-20T09:45:00+02:00;Stora scenen;2026-05-20T09:00:00+02:00;ja;No;sv\r\n"
    )
    with pytest.raises(InvalidInput) as caught:
        parse_csv(text)
    assert (caught.value.field, caught.value.problem) == (
        "row 2.auto_start",
        "must be true or false",
    )
    entry = parse_csv(text.replace(";ja;", ";TRUE;")).sessions[0]
    assert (entry.title, entry.studio, entry.language) == ("Öppning", "Stora scenen", "sv")
    assert (entry.auto_start, entry.auto_end) == (True, False)


def test_csv_row_numbers_are_lines_where_rows_start() -> None:
    """Error rows name the file line a row starts on, counting lines inside quoted cells."""
    text = (
        f"{HEADER},description\n"
        'A,T,2026-05-20T09:00:00Z,2026-05-20T10:00:00Z,"two\nlines"\n'
        "\n"
        "A,U,2026-05-20T10:00:00Z,2026-05-20T09:00:00Z,\n"
    )
    with pytest.raises(InvalidInput) as caught:
        parse_csv(text)
    assert caught.value.message == "row 5.ends_at: must be after starts_at"


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("", "", "the file is empty; its first row must name the columns"),
        ("a,b\n", "row 1", "names an unknown column 'a'"),
        ("studio,title\n", "row 1", "lacks the required column 'starts_at'"),
        (f"{HEADER},Studio\n", "row 1", "names the column 'studio' twice"),
        (f'{HEADER}\n"x,y', "", "the file is not valid CSV: unexpected end of data (line 2)"),
        (
            f"{HEADER}\nA,B,2026-05-20T09:00:00+02:00\n",
            "row 2",
            "has 3 cells but the header names 4 columns",
        ),
        (
            f"{HEADER},id\nA,T,2026-05-20T09:00:00Z,2026-05-20T10:00:00Z,x\n"
            "A,T,2026-05-20T10:00:00Z,2026-05-20T11:00:00Z,x\n",
            "row 3.id",
            "repeats the id of row 2",
        ),
    ],
)
def test_csv_file_errors(text: str, field: str, problem: str) -> None:
    """Problems with the file's shape name the line and explain themselves."""
    with pytest.raises(InvalidInput) as caught:
        parse_csv(text)
    assert (caught.value.field, caught.value.problem) == (field, problem)


@pytest.mark.parametrize(
    ("cells", "field", "problem"),
    [
        ({"title": ""}, "title", "is required"),
        ({"title": " "}, "title", "must not be blank"),
        ({"title": "x" * 201}, "title", "must be at most 200 characters"),
        ({"language": "Swedish"}, "language", "must be a language tag like sv, fi, nb or en-GB"),
        ({"auto_end": "sometimes"}, "auto_end", "must be true or false"),
        (
            {"state": "over"},
            "state",
            "must be one of scheduled, ready, live, ended, replay, cancelled",
        ),
        ({"speakers": "A;" + "s" * 121}, "speakers[1]", "must be at most 120 characters"),
        ({"speakers": ";".join(["A"] * 31)}, "speakers", "must list at most 30 speakers"),
        ({"starts_at": "20/05/2026 09:00"}, "starts_at", ISO),
        ({"starts_at": "2026-05-20 09:00"}, "starts_at", OFFSET),
        ({"ends_at": "2026-05-20T08:00:00+02:00"}, "ends_at", "must be after starts_at"),
    ],
)
def test_csv_session_errors(cells: dict[str, str], field: str, problem: str) -> None:
    """Bad cells are refused with ``row N.column`` and the same sentences as YAML."""
    with pytest.raises(InvalidInput) as caught:
        parse_csv(csv_row(**cells))
    assert (caught.value.field, caught.value.problem) == (f"row 3.{field}", problem)


def test_csv_cancelled_state_and_flags_are_read() -> None:
    """``state`` and the flags are read from CSV; empty cells keep the defaults."""
    doc = parse_csv(csv_row(state="cancelled", auto_start="false", auto_end=""))
    assert (doc.sessions[1].state, doc.sessions[1].auto_start) == ("cancelled", False)
    assert (doc.sessions[0].state, doc.sessions[0].auto_start, doc.sessions[0].auto_end) == (
        None,
        None,
        True,
    )


def test_shift_to_start_moves_every_session_by_one_offset() -> None:
    """The earliest session lands on the given instant; gaps and lengths stay the same."""
    doc = parse_yaml(DEMO_PROGRAM_FILE.read_text(encoding="utf-8"))
    target = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    shifted = shift_to_start(doc, target)
    assert min(s.starts_at for s in shifted.sessions) == target
    for before, after in zip(doc.sessions, shifted.sessions, strict=True):
        assert after.ends_at - after.starts_at == before.ends_at - before.starts_at
        assert after.starts_at - target == before.starts_at - min(s.starts_at for s in doc.sessions)
