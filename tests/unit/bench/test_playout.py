"""The playout benchmark's report: the playout's own cost against the target, delivery apart."""

from __future__ import annotations

from bench.playout.report import markdown
from bench.playout.run import Result, Row


def test_the_report_judges_the_playout_and_shows_the_cost_per_extra_player() -> None:
    """One player's cost over the idle node is the playout's; more players cost delivery."""
    text = markdown(
        Result(baseline_cpu=0.005, rows=[Row(1, 0.012, 2.0, 0), Row(21, 0.052, 44.0, 0)])
    )
    assert "0.007 cores over the idle node, within the target" in text
    assert "| 21 | 0.052 | 0.047 | 44.0 | 0.0020 | 0 |" in text
    over = markdown(Result(baseline_cpu=0.0, rows=[Row(1, 0.2, 2.0, 1)]))
    assert "over the target" in over


def test_a_run_that_could_not_measure_says_why() -> None:
    """No ffmpeg or no node: the section says so instead of a table."""
    assert "Not measured: no ffmpeg on this machine." in markdown(
        Result(skipped="no ffmpeg on this machine")
    )
