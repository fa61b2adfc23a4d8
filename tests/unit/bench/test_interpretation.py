"""The interpretation benchmark's report (pure)."""

from __future__ import annotations

import pytest

from bench.interpretation.report import extra, markdown
from bench.interpretation.run import InterpretationResult, Plan
from bench.media.run import CpuRun


def _run(ffmpeg: float, torget: float) -> CpuRun:
    return CpuRun((720, 480, 360), 720, ffmpeg_cores=ffmpeg, torget_cores=torget)


def test_the_track_costs_the_difference_between_the_two_sessions() -> None:
    """The extra cost is the interpreted session's (ffmpeg plus Torget) less the plain one's;
    it is unknown when either was not measured."""
    result = InterpretationResult(Plan(), _run(0.50, 0.02), _run(0.53, 0.03))
    assert extra(result) == pytest.approx(0.04)
    assert "adds **4.0% of a core** per session" in markdown(result)
    assert extra(InterpretationResult(Plan(), _run(0.5, 0.0), None)) is None
    unmeasured = markdown(InterpretationResult(Plan(), None, None, notes=["not measured: x"]))
    assert "| without interpretation | - | - | - | - | not measured |" in unmeasured
    assert "- not measured: x" in unmeasured
