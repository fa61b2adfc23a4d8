"""The clip benchmark's report: a row per case saying how the clip was cut."""

from __future__ import annotations

from bench.clips.report import TITLE, markdown
from bench.clips.run import QUICK, Case, ClipsResult, Timing
from studio.clips import ClipAspect


def test_the_section_has_a_row_per_case_with_speed_and_method() -> None:
    """Copy and re-encode rows, the speed against the clip's 60 s, sizes in MB."""
    copy = Timing(Case(720, ClipAspect.LANDSCAPE, True, 10.0), 1280, 720, 0.5, 0.2, 66_800_000)
    off = Timing(Case(720, ClipAspect.LANDSCAPE, False, 10.4), 1280, 720, 30.0, 25.0, 24_000_000)
    text = markdown(ClipsResult(QUICK, (copy, off)))
    assert text.startswith(TITLE + "\n")
    assert (
        "| 720p | 16:9 | 1280x720 | stream copy (in on a keyframe) | 0.5 | 0.2 | 120.0x | 66.8 |"
        in text
    )
    assert (
        "| 720p | 16:9 | 1280x720 | re-encode (in off a keyframe) | 30.0 | 25.0 | 2.0x | 24.0 |"
        in text
    )
