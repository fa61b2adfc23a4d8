"""Writing programme files: a ``ProgramDocument`` as YAML or CSV that reads back equal."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import yaml

from studio.program_io.cells import guard, join_speakers
from studio.program_io.document import COLUMNS, ProgramDocument, ProgramSession


def to_yaml(doc: ProgramDocument) -> str:
    """The document as YAML; fields left at their defaults are omitted."""
    data = {
        "event": doc.event,
        "timezone": doc.timezone,
        "studios": [{"name": s.name} for s in doc.studios],
        "sessions": [_yaml_session(s) for s in doc.sessions],
    }
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that double-quotes text holding YAML's extra line breaks (NEL, LS, PS).

    PyYAML's plain and single-quoted styles do not round-trip them; double quotes escape them.
    """


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if any(char in text for char in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def _yaml_session(session: ProgramSession) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in COLUMNS:
        value = getattr(session, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        if value is None or value == "" or value == [] or (name == "auto_end" and value):
            continue
        out[name] = value
    return out


def to_csv(doc: ProgramDocument) -> str:
    """The document as CSV: a row per studio (only its name), then a row per session.

    Cells a spreadsheet could run as a formula get a leading ``'``, which ``parse_csv`` removes.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for studio in doc.studios:
        writer.writerow([guard(studio.name) if c == "studio" else "" for c in COLUMNS])
    for session in doc.sessions:
        writer.writerow([guard(_csv_cell(session, column)) for column in COLUMNS])
    return buffer.getvalue()


def _csv_cell(session: ProgramSession, column: str) -> str:
    value = getattr(session, column)
    if column == "speakers":
        return join_speakers(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)
