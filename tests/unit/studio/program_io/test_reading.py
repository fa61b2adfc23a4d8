"""Reading programme files: times, YAML and CSV specifics, and errors that name the place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from studio.errors import InvalidInput
from studio.program_io import ProgramDocument, ProgramStudio, parse_csv, parse_yaml

STOCKHOLM = ZoneInfo("Europe/Stockholm")
T0 = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)  # 09:00 in Stockholm
HEADER = "studio,title,starts_at,ends_at"

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


def test_a_yaml_escape_of_a_lone_surrogate_is_refused() -> None:
    """``"\\udc80"`` is a valid YAML escape but no character: refused, never stored."""
    with pytest.raises(InvalidInput) as refused:
        parse_yaml('sessions:\n- title: "\\udc80x"\n')
    assert refused.value.message == (
        "the file is not valid YAML: it escapes a lone surrogate (\\uD800-\\uDFFF), "
        "which is not a character"
    )
