"""WebVTT and SubRip files: timestamps, escaping, and files that parse back."""

from __future__ import annotations

import re

from studio.captions.formats import (
    TimedLine,
    lines_from,
    render_srt,
    render_vtt,
    srt_time,
    vtt_text,
    vtt_time,
)

LINES = [
    TimedLine(0.0, 1.5, "Välkomna till mässan"),
    TimedLine(3661.0125, 3663.5, "R&D <b>not bold</b> --> still text"),
]
VTT_CUE = re.compile(
    r"(\d+)\n(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n([^\n]+)\n"
)
SRT_CUE = re.compile(r"(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n([^\n]+)\n")


def test_timestamps_are_hours_minutes_seconds_and_milliseconds() -> None:
    """WebVTT uses a dot, SubRip a comma; negative times clamp to zero."""
    assert vtt_time(3661.0125) == "01:01:01.012"
    assert srt_time(59.9996) == "00:01:00,000"
    assert vtt_time(-1.0) == "00:00:00.000"


def test_cue_text_cannot_open_tags_or_end_the_timing_line() -> None:
    """``&``, ``<`` and ``>`` are escaped so a line shows as typed."""
    assert vtt_text("a <i>&</i> -->") == "a &lt;i&gt;&amp;&lt;/i&gt; --&gt;"


def test_a_webvtt_file_parses_back_into_its_cues() -> None:
    """Signature, header lines, then numbered cues whose times and text read back."""
    text = render_vtt(LINES, header=["X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000"])
    head, _, body = text.partition("\n\n")
    assert head == "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000"
    cues = VTT_CUE.findall(body)
    assert [c[0] for c in cues] == ["1", "2"]
    assert [c[-1] for c in cues] == [
        "Välkomna till mässan",
        "R&amp;D &lt;b&gt;not bold&lt;/b&gt; --&gt; still text",
    ]
    assert VTT_CUE.sub("", body).strip() == ""


def test_an_empty_webvtt_file_is_just_its_signature() -> None:
    """A segment without cues is still a valid WebVTT file."""
    assert render_vtt([]) == "WEBVTT\n\n"


def test_a_subrip_file_parses_back_into_its_cues() -> None:
    """Numbered cues with comma timestamps and the text as typed, separated by blank lines."""
    text = render_srt(LINES)
    cues = SRT_CUE.findall(text)
    assert cues == [
        ("1", "00:00:00,000", "00:00:01,500", "Välkomna till mässan"),
        ("2", "01:01:01,012", "01:01:03,500", "R&D <b>not bold</b> --> still text"),
    ]
    assert SRT_CUE.sub("", text).strip() == ""
    assert render_srt([]) == ""


def test_cues_are_timed_from_the_recordings_start() -> None:
    """A cue over before the start is left out, one running across it starts at zero, later
    ones keep their distance from it."""

    class Cue:
        def __init__(self, start_ms: int, end_ms: int, text: str) -> None:
            self.start_ms, self.end_ms, self.text = start_ms, end_ms, text

    zero = 1_000_000
    found = lines_from(
        [Cue(zero - 3000, zero - 1000, "gone"), Cue(zero - 500, zero + 1000, "across"),
         Cue(zero + 61_250, zero + 63_000, "later")],
        zero,
    )  # fmt: skip
    assert found == [TimedLine(0.0, 1.0, "across"), TimedLine(61.25, 63.0, "later")]
