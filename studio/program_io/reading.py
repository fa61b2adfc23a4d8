"""Reading programme files: YAML and CSV text checked into a ``ProgramDocument``.

Every problem a person can make raises ``InvalidInput`` naming the place (``sessions[3].ends_at``
in YAML, ``row 5.ends_at`` in CSV, where 5 is the line the row starts on) and the problem in a
plain sentence. The format is described in docs/program-format.md.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import yaml

from studio.errors import InvalidInput
from studio.models import (
    DESCRIPTION_MAX,
    LANGUAGE_PATTERN,
    NAME_MAX,
    SPEAKER_MAX,
    SPEAKERS_MAX,
    TITLE_MAX,
    check_instant,
    check_times,
    clean_text,
)
from studio.program_io.cells import split_speakers, unguard
from studio.program_io.document import COLUMNS, ProgramDocument, ProgramSession, ProgramStudio
from studio.states import SessionState

REQUIRED = ("studio", "title", "starts_at", "ends_at")
DOCUMENT_KEYS = ("event", "timezone", "studios", "sessions")
ID_MAX = 64
LANGUAGE_MAX = 35

EXAMPLE_TIME = "2026-05-20T09:00:00+02:00"
BAD_TIME = f"must be an ISO 8601 date-time, like {EXAMPLE_TIME}"
NO_OFFSET = f"must include a UTC offset, like {EXAMPLE_TIME}"
NO_OFFSET_YAML = f"{NO_OFFSET}, unless the file sets timezone"
BAD_LANGUAGE = "must be a language tag like sv, fi, nb or en-GB"
BAD_FLAG = "must be true or false"
BAD_STATE = "must be one of " + ", ".join(s.value for s in SessionState)
BAD_ZONE = "must be an IANA time zone name, like Europe/Stockholm"

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


class _Times(NamedTuple):
    """How to read times: the document's zone, and the problem if a time has no offset."""

    zone: zoneinfo.ZoneInfo
    naive_problem: str | None  # None: times without an offset are in ``zone``


def parse_yaml(text: str) -> ProgramDocument:
    """Read and check a YAML programme; raise InvalidInput naming the first problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput("", f"the file is not valid YAML: {_yaml_reason(exc)}") from None
    except ValueError as exc:  # a scalar PyYAML cannot build, like 2026-02-30
        raise InvalidInput("", f"the file is not valid YAML: {exc}") from None
    except RecursionError:
        raise InvalidInput("", "the file is not valid YAML: it is nested too deeply") from None
    try:
        surrogate = _holds_surrogate(data)
    except RecursionError:
        raise InvalidInput("", "the file is not valid YAML: it is nested too deeply") from None
    if surrogate:
        raise InvalidInput(
            "",
            "the file is not valid YAML: it escapes a lone surrogate (\\uD800-\\uDFFF), "
            "which is not a character",
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput("", "the file must be a YAML mapping with studios and sessions")
    _refuse_unknown(data, DOCUMENT_KEYS, "")
    event = _text(_get(data, "event", ""), "event", clean=False)
    times = _times(_get(data, "timezone", None), NO_OFFSET_YAML)
    studios = _yaml_studios(_get(data, "studios", []))
    raw_sessions = _get(data, "sessions", [])
    if not isinstance(raw_sessions, list):
        raise InvalidInput("sessions", "must be a list of sessions")
    sessions = []
    for index, raw in enumerate(raw_sessions):
        where = f"sessions[{index}]"
        if not isinstance(raw, dict):
            raise InvalidInput(where, "must be a mapping of session fields")
        sessions.append(_session(raw, where, times))
    _refuse_duplicate_ids(sessions, [f"sessions[{i}]" for i in range(len(sessions))])
    return ProgramDocument(
        event=event,
        timezone=times.zone.key,
        studios=_with_session_studios(studios, sessions),
        sessions=sessions,
    )


def parse_csv(text: str, *, timezone: str | None = None, event: str = "") -> ProgramDocument:
    """Read and check a CSV programme; ``timezone`` (if given) applies to times without offset."""
    times = _times(timezone, NO_OFFSET)
    records = _csv_records(text.removeprefix("\ufeff"))
    if not records:
        raise InvalidInput("", "the file is empty; its first row must name the columns")
    header_line, header = records[0]
    columns = _csv_header(header, f"row {header_line}")
    studios: list[ProgramStudio] = []
    sessions: list[ProgramSession] = []
    wheres: list[str] = []
    for line, cells in records[1:]:
        where = f"row {line}"
        if len(cells) != len(columns):
            raise InvalidInput(
                where, f"has {len(cells)} cells but the header names {len(columns)} columns"
            )
        values = zip(columns, map(unguard, cells), strict=True)
        raw = {name: _csv_value(name, cell) for name, cell in values if cell != ""}
        if list(raw) == ["studio"]:  # a studio without sessions
            studios.append(ProgramStudio(_text(raw["studio"], f"{where}.studio", NAME_MAX)))
        elif raw:
            sessions.append(_session(raw, where, times))
            wheres.append(where)
    _refuse_duplicate_ids(sessions, wheres)
    return ProgramDocument(
        event=event,
        timezone=times.zone.key,
        studios=_with_session_studios(studios, sessions),
        sessions=sessions,
    )


def _yaml_reason(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"{exc.problem}{where}"
    return str(exc).splitlines()[0]


def _yaml_studios(value: object) -> list[ProgramStudio]:
    if not isinstance(value, list):
        raise InvalidInput("studios", "must be a list of studios")
    studios: list[ProgramStudio] = []
    first: dict[str, int] = {}
    for index, item in enumerate(value):
        where = f"studios[{index}]"
        if isinstance(item, dict):
            _refuse_unknown(item, ("name",), where)
            where = f"{where}.name"
            if item.get("name") is None:
                raise InvalidInput(where, "is required")
            item = item["name"]
        name = _text(item, where, NAME_MAX)
        if name in first:
            raise InvalidInput(where, f"repeats the name of studios[{first[name]}]")
        first[name] = index
        studios.append(ProgramStudio(name))
    return studios


def _csv_records(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows with the line each starts on; sniffs ``;`` as used by Nordic Excel."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records, start = [], 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput("", f"the file is not valid CSV: {exc} (line {start})") from None
    return records


def _csv_header(cells: list[str], where: str) -> list[str]:
    columns = [cell.strip().lower() for cell in cells]
    for index, name in enumerate(columns):
        if name not in COLUMNS:
            raise InvalidInput(where, f"names an unknown column {cells[index].strip()!r}")
        if name in columns[:index]:
            raise InvalidInput(where, f"names the column {name!r} twice")
    for name in REQUIRED:
        if name not in columns:
            raise InvalidInput(where, f"lacks the required column {name!r}")
    return columns


def _csv_value(column: str, cell: str) -> object:
    if column == "speakers":
        return split_speakers(cell)
    if column in ("auto_start", "auto_end"):
        flag = cell.strip().lower()
        return True if flag in _TRUE else False if flag in _FALSE else cell
    return cell


def _session(raw: Mapping[Any, Any], where: str, times: _Times) -> ProgramSession:
    """Check one session's fields (shared by YAML and CSV; null means absent)."""
    _refuse_unknown(raw, COLUMNS, where)
    for name in REQUIRED:
        if raw.get(name) is None:
            raise InvalidInput(f"{where}.{name}", "is required")
    ident, auto_start = _get(raw, "id", None), _get(raw, "auto_start", None)
    session = ProgramSession(
        id=None if ident is None else _text(ident, f"{where}.id", ID_MAX),
        studio=_text(raw["studio"], f"{where}.studio", NAME_MAX),
        title=_text(raw["title"], f"{where}.title", TITLE_MAX),
        starts_at=_instant(raw["starts_at"], f"{where}.starts_at", times),
        ends_at=_instant(raw["ends_at"], f"{where}.ends_at", times),
        description=_text(
            _get(raw, "description", ""), f"{where}.description", DESCRIPTION_MAX, clean=False
        ),
        speakers=_speakers(_get(raw, "speakers", []), f"{where}.speakers"),
        language=_language(_get(raw, "language", None), f"{where}.language"),
        state=_state(_get(raw, "state", None), f"{where}.state"),
        auto_start=None if auto_start is None else _flag(auto_start, f"{where}.auto_start"),
        auto_end=_flag(_get(raw, "auto_end", True), f"{where}.auto_end"),
    )
    try:
        check_times(session.starts_at, session.ends_at)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}.{exc.field}", exc.problem) from None
    return session


def _get(raw: Mapping[Any, Any], key: str, default: object) -> Any:
    value = raw.get(key)
    return default if value is None else value


def _refuse_unknown(raw: Mapping[Any, Any], known: Sequence[str], where: str) -> None:
    for key in raw:
        if key not in known:
            raise InvalidInput(f"{where}.{key}" if where else str(key), "is not a known field")


def _kind(value: object) -> str:
    kinds: tuple[tuple[type, str], ...] = (
        (bool, "true or false"),
        (int, "a number"),
        (float, "a number"),
        (datetime, "a date-time"),
        (date, "a date"),
        (list, "a list"),
        (dict, "a mapping"),
    )
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)


def _holds_surrogate(data: object) -> bool:
    """Whether a loaded YAML value holds a lone surrogate anywhere (``"\\udc80"`` is a valid
    YAML escape but not text: it cannot be stored or sent as UTF-8)."""
    if isinstance(data, str):
        return any("\ud800" <= ch <= "\udfff" for ch in data)
    if isinstance(data, dict):
        return any(_holds_surrogate(k) or _holds_surrogate(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_holds_surrogate(item) for item in data)
    return False


def _text(value: object, field: str, limit: int | None = None, *, clean: bool = True) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be text, not {_kind(value)}")
    if clean:
        value = clean_text(field, value)
    if limit is not None and len(value) > limit:
        raise InvalidInput(field, f"must be at most {limit} characters")
    return value


def _instant(value: object, field: str, times: _Times) -> datetime:
    if isinstance(value, str) and _DATE_TIME.match(value.strip()):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value.strip())
    if not isinstance(value, datetime):
        raise InvalidInput(field, BAD_TIME)
    if value.utcoffset() is None:
        if times.naive_problem is not None:
            raise InvalidInput(field, times.naive_problem)
        value = value.replace(tzinfo=times.zone)
    check_instant(field, value)
    return value.astimezone(times.zone)


def _speakers(value: object, field: str) -> list[str]:
    if not isinstance(value, list):
        raise InvalidInput(field, "must be a list of names")
    if len(value) > SPEAKERS_MAX:
        raise InvalidInput(field, f"must list at most {SPEAKERS_MAX} speakers")
    return [_text(name, f"{field}[{i}]", SPEAKER_MAX) for i, name in enumerate(value)]


def _language(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > LANGUAGE_MAX:
        raise InvalidInput(field, BAD_LANGUAGE)
    if not re.fullmatch(LANGUAGE_PATTERN, value):
        raise InvalidInput(field, BAD_LANGUAGE)
    return value


def _state(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in {s.value for s in SessionState}:
        raise InvalidInput(field, BAD_STATE)
    return value


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, BAD_FLAG)
    return value


def _times(zone_name: object, naive_problem: str) -> _Times:
    """Times in the named zone (naive ones too), or in UTC with naive ones refused."""
    if zone_name is None:
        return _Times(_zone("UTC"), naive_problem)
    return _Times(_zone(zone_name), None)


def _zone(name: object) -> zoneinfo.ZoneInfo:
    if not isinstance(name, str):
        raise InvalidInput("timezone", BAD_ZONE)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput("timezone", BAD_ZONE) from None


def _refuse_duplicate_ids(sessions: list[ProgramSession], wheres: list[str]) -> None:
    first: dict[str, str] = {}
    for session, where in zip(sessions, wheres, strict=True):
        if session.id is None:
            continue
        if session.id in first:
            raise InvalidInput(f"{where}.id", f"repeats the id of {first[session.id]}")
        first[session.id] = where


def _with_session_studios(
    studios: list[ProgramStudio], sessions: list[ProgramSession]
) -> list[ProgramStudio]:
    """The studios listed, then those only named by sessions, in order of first mention."""
    names = dict.fromkeys([s.name for s in studios] + [s.studio for s in sessions])
    return [ProgramStudio(name) for name in names]
