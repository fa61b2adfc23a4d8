"""The interpretation benchmark's section of BENCHMARKS.md."""

from __future__ import annotations

from bench.interpretation.run import LADDER, SOURCE, InterpretationResult
from bench.media.run import CpuRun


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _row(label: str, run: CpuRun | None) -> str:
    if run is None:
        return f"| {label} | - | - | - | - | not measured |"
    served = ", ".join(v.uri for v in run.renditions)
    return (
        f"| {label} | {_pct(run.ffmpeg_cores)} | {_pct(run.torget_cores)} | "
        f"{_pct(run.session_cores)} | {_pct(run.machine_busy)} | {run.error or served} |"
    )


def extra(result: InterpretationResult) -> float | None:
    """What the interpretation track adds to the session (cores), if both were measured."""
    runs = (result.without, result.with_interpretation)
    costs = [r.session_cores for r in runs if r is not None]
    if len(costs) != 2 or costs[0] is None or costs[1] is None:
        return None
    return costs[1] - costs[0]


def markdown(result: InterpretationResult) -> str:
    """The Markdown section."""
    plan = result.plan
    ladder = ", ".join(f"{h}p" for h in LADDER)
    added = extra(result)
    lines = [
        "## Interpretation: CPU of one interpretation track",
        "",
        f"One live session ({SOURCE}p30 clip published over RTMP in a loop with `-c copy`), "
        f"the shipped ladder ({ladder}), on two nodes side by side in one run: without "
        f"interpretation and with {', '.join(plan.languages)} (one voice pipe mixed over the "
        f"ducked original sound and one more AAC rendition; silence while no interpreter is on "
        f"air, which costs ffmpeg what a voice does). CPU seconds per wall second over "
        f"{plan.cpu_seconds:.0f} s after {plan.cpu_warmup:.0f} s of warm-up, from /proc "
        "(share of one core).",
        "",
        "| node | Torget's ffmpeg | Torget process | per session | machine busy | served |",
        "| --- | --- | --- | --- | --- | --- |",
        _row("without interpretation", result.without),
        _row(f"with {', '.join(plan.languages)}", result.with_interpretation),
        "",
        f"One interpretation track adds **{_pct(added)} of a core** per session.",
    ]
    lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines) + "\n"
