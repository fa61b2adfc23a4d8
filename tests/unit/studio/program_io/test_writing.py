"""Writing programme files: exports that parse back equal, short YAML and guarded CSV cells."""

from __future__ import annotations

from datetime import timedelta

from studio.program_io import (
    ProgramDocument,
    ProgramSession,
    ProgramStudio,
    parse_csv,
    parse_yaml,
    to_csv,
    to_yaml,
)
from tests.support.harness import T0
from tests.support.programme_docs import demo, store_document

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


# --- CSV cells --------------------------------------------------------------------------------


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
