"""The caption latency benchmark's section of ``BENCHMARKS.md``."""

from __future__ import annotations

from bench.captions.run import ModeResult, Result
from bench.media.playlist import Summary
from bench.viewer.run import MODES

TITLE = "## Caption latency: from Enter to the viewer's screen"
ON_TIME = 0.5  # s a line may come after the picture it belongs to (issue 15)


def _spread(value: Summary | None) -> str:
    return "-" if value is None else f"{value.p10:.2f} / {value.median:.2f} / {value.p90:.2f}"


def _row(mode: ModeResult) -> str:
    late = mode.lateness
    verdict = "-"
    if late.over_delay is not None:
        verdict = "on time" if late.over_delay.p90 <= ON_TIME and not late.missed else "late"
    return (
        f"| {MODES[mode.mode]} ({mode.playback or '?'}) | {len(mode.lines)} | {late.missed} | "
        f"{_spread(late.to_screen)} | {_spread(late.delay)} | {_spread(late.over_delay)} | "
        f"{verdict} |"
    )


def markdown(result: Result) -> str:
    """The section: how it was measured, then a row per latency choice."""
    plan = result.plan
    return "\n".join(
        [
            TITLE,
            "",
            "The viewer benchmark's node and stamped publisher (shipped media settings: ladder "
            "720/480/360, 1 s segments, 0.2 s parts; 720p30 over RTMP, the wall clock burned "
            "into every picture) and the product's viewer page `/s/{id}` in headless Chromium, "
            "once per latency choice, Swedish captions on in its captions menu. A captioner "
            f"sends {plan.lines} lines over HTTP, one every {plan.every:g} s (each belongs to "
            "the picture of the moment it is sent, as Enter in the caption console); the page "
            "notes when each line is first among the video's active cues (every 50 ms) and how "
            "far behind live its picture is (every 100 ms). *Enter to screen*: seconds from "
            "sending to showing; *picture behind live*: the viewer's own delay as the line "
            "showed; *after its picture*: the difference. Target: a line shows within the "
            f"viewer's own delay + {ON_TIME} s (p90).",
            "",
            "| page plays | lines | missed | Enter to screen p10 / median / p90 s | "
            "picture behind live p10 / median / p90 s | after its picture p10 / median / p90 s "
            "| target |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *(_row(mode) for mode in result.modes),
            "",
            f"Caption latency benchmark time: {result.seconds / 60:.1f} min.",
            "",
        ]
    )
