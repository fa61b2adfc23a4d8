"""The caption benchmark's reading of its lines: time to the screen beside the viewer's delay."""

from __future__ import annotations

import pytest

from bench.captions.report import markdown
from bench.captions.run import ModeResult, Plan, Result
from bench.captions.stats import Line, lateness
from bench.viewer.stats import Sample


def _steady(start: int, count: int, behind: int) -> list[Sample]:
    """A sample every 100 ms, the picture ``behind`` ms old."""
    return [Sample(start + i * 100, start + i * 100 - behind, 480, 1.0) for i in range(count)]


def test_a_line_is_measured_against_the_delay_of_the_picture_as_it_showed() -> None:
    """A line shown 1.6 s after Enter to a viewer 1.4 s behind live came 0.2 s after its
    picture; a line never shown counts as missed and in no figure."""
    samples = _steady(0, 100, 1400)
    lines = [Line("one", 2000, 3600), Line("two", 5000, 6600), Line("three", 8000, None)]
    found = lateness(lines, samples)
    assert found.missed == 1
    assert found.to_screen is not None
    assert found.to_screen.median == pytest.approx(1.6)
    assert found.delay is not None
    assert found.delay.median == pytest.approx(1.4)
    assert found.over_delay is not None
    assert found.over_delay.median == pytest.approx(0.2)


def test_the_report_says_whether_lines_came_on_time() -> None:
    """Lines within the viewer's delay + 0.5 s are on time; a missed line makes the mode late."""
    samples = _steady(0, 100, 1400)
    on_time = [Line("one", 2000, 3600)]
    missed = [Line("one", 2000, 3600), Line("two", 5000, None)]
    result = Result(
        Plan(),
        [
            ModeResult("low", "llhls", on_time, lateness(on_time, samples)),
            ModeResult("standard", "hls", missed, lateness(missed, samples)),
        ],
    )
    rows = [line for line in markdown(result).splitlines() if line.startswith("| LL-HLS")]
    assert rows == [
        "| LL-HLS (default page) (llhls) | 1 | 0 | 1.60 / 1.60 / 1.60 | 1.40 / 1.40 / 1.40 "
        "| 0.20 / 0.20 / 0.20 | on time |"
    ]
    assert "| classic HLS (hls) | 2 | 1 |" in markdown(result)
    assert markdown(result).splitlines()[-1].startswith("Caption latency benchmark time")
