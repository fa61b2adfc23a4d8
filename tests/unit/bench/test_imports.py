"""The programme import benchmark: its files and its report."""

from __future__ import annotations

from bench.imports.report import markdown
from bench.imports.run import ImportResult, Plan, Row, summary_ms
from studio.program_io import parse_csv, parse_yaml
from tests.support.programme_docs import largest_programme


def test_largest_programme_fills_the_limit_with_valid_sessions() -> None:
    """The generated YAML and CSV files are valid, within the limit and close to it."""
    for csv in (False, True):
        body, count = largest_programme(20_000, studios=3, csv=csv)
        assert 19_500 < len(body) <= 20_000
        parse = parse_csv if csv else parse_yaml
        doc = parse(body.decode())
        assert len(doc.sessions) == count
        assert {s.studio for s in doc.sessions} == {"Studio 0", "Studio 1", "Studio 2"}


def test_report_shows_each_request_with_the_probe_figures() -> None:
    """The section has a row per request with p50 / p99 / max of /healthz in milliseconds."""
    result = ImportResult(Plan(), idle=[0.002, 0.003])
    result.rows.append(Row("import yaml", 1_048_000, 3859, 10, 200, 5.54, [0.001, 0.004, 0.031]))
    text = markdown(result)
    assert text.startswith("## Programme import: the node keeps answering\n")
    assert "| import yaml | 1023 KiB | 3859 | 10 | 200 | 5.5 | 4.0 / 31.0 / 31.0 | 3 |" in text
    assert "Idle node: `/healthz` p50 / p99 / max 2.5 / 3.0 / 3.0 ms." in text
    assert summary_ms([]) == "- / - / -"
