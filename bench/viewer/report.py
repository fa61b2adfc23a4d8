"""The viewer latency benchmark's section of ``BENCHMARKS.md``."""

from __future__ import annotations

from bench.viewer.run import MODES, Result, Viewer
from bench.viewer.stats import FREEZE, NEAR

TITLE = "## Viewer latency: the viewer page in a real browser"
GOAL = 2.0  # s behind live, median, for HLS viewers (issue 17)


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _row(mode: str, who: str, viewer: Viewer, busy: float, load: float) -> str:
    spread = viewer.spread
    if spread is None:
        return f"| {MODES[mode]} | {who} | {_s(viewer.first_picture)} | - | - | - | 0 | - | - | - |"
    goal = "-"
    if mode != "lowest":
        goal = "within" if spread.median <= GOAL else "over"
    count, frozen = viewer.freezes
    return (
        f"| {MODES[mode]} ({viewer.playback or '?'}) | {who} | {_s(viewer.first_picture)} | "
        f"{spread.p10:.2f} | {spread.median:.2f} | {spread.p90:.2f} | {spread.count} | "
        f"{count} / {frozen:.2f} s | {busy * 100:.0f} % / {load:.1f} | {goal} |"
    )


def markdown(result: Result) -> str:
    """The tables: distance from live per mode and viewer, per rendition, after a stall."""
    plan = result.plan
    lines = [
        TITLE,
        "",
        "What a viewer sees, measured as a viewer: a Torget node with the shipped media settings "
        "(ladder 720/480/360, x264 `veryfast`, 1 s segments, 0.2 s parts, the slate on), the "
        "stamped publisher (PyAV, 1280x720 at 30 fps, a keyframe a second, the wall clock "
        "burned into every picture as blocks) publishing over RTMP itself (connected before its "
        "first frame, as OBS is), "
        "an auto-starting session, and the product's own viewer page `/s/{id}` in headless "
        "Chromium (`/usr/bin/chromium`, Playwright; 1280x900 window, so hls.js's automatic "
        "quality settles on 480p). A script in the page reads the clock back from the "
        "`<video>` through a canvas every 100 ms; distance from live = wall clock - clock on "
        "the picture shown. Each latency choice of the page's menu in turn: "
        f"**go-live** = a page open before the publisher starts, measured for "
        f"{plan.go_live_seconds:.0f} s from its first picture (first picture: seconds from "
        f"the encoder's first frame); **joiner** = a page opened {plan.join_after:.0f} s later, "
        f"measured for {plan.joiner_seconds:.0f} s (first picture: seconds from opening it). "
        f"Freezes: one picture on show {FREEZE} s or longer. Machine: share of all "
        f"{result.cores} cores busy during the mode's run / 1-minute load average after it "
        "(other work on the machine shows here).",
        "",
        "| page plays | viewer | first picture s | p10 s | median s | p90 s | samples "
        f"| freezes (count / total) | machine busy / load | ≤ {GOAL:.0f} s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mode in result.modes:
        lines.append(_row(mode.mode, "go-live", mode.go_live, mode.busy, mode.load))
        lines.append(_row(mode.mode, "joiner", mode.joiner, mode.busy, mode.load))
    pinned = [(m.mode, m.pinned) for m in result.modes if m.pinned]
    if pinned:
        lines += [
            "",
            "Each rendition's own distance from live (LL-HLS; the go-live page's quality menu "
            f"set to each in turn, {plan.settle_pinned:.0f} s to settle, then "
            f"{plan.pinned_seconds:.0f} s measured):",
            "",
            "| rendition | p10 s | median s | p90 s | samples |",
            "| --- | --- | --- | --- | --- |",
        ]
        for _, found in pinned:
            for height, spread in found.items():
                lines.append(
                    f"| {height}p | {spread.p10:.2f} | {spread.median:.2f} | {spread.p90:.2f} "
                    f"| {spread.count} |"
                )
    stalls = [(m.mode, m.stall) for m in result.modes]
    if any(stall is not None for _, stall in stalls):
        lines += [
            "",
            f"A stall: the go-live page's HLS requests held for {plan.stall_hold:.0f} s "
            "(Playwright routing), after which it should come back to where it played before "
            f"(its median over the 8 s before) within {NEAR} s, at a playback rate above 1:",
            "",
            "| page plays | played at s | furthest behind after s | back within "
            f"{NEAR} s after s | fastest playback rate |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, stall in stalls:
            if stall is None:
                continue
            back = "not within the window" if stall.recovery is None else f"{stall.recovery:.1f}"
            lines.append(
                f"| {MODES[name]} | {stall.target:.2f} | {stall.peak:.2f} | {back} "
                f"| {stall.fastest:.2f} |"
            )
    lines += [""]
    for note in result.notes:
        lines += [f"Note: {note}.", ""]
    lines += [f"Viewer latency benchmark time: {result.seconds / 60:.1f} min.", ""]
    return "\n".join(lines)
