"""What one interpretation track costs a session (``python -m bench interpretation``).

Two Torget nodes with the shipped ladder (720p/480p/360p), side by side in one run: one
without interpretation, one with an interpretation language. On each, ffmpeg publishes the
same pre-encoded 720p30 clip in a loop over RTMP (``-c copy``: the publisher costs almost
nothing); after a warm-up the CPU seconds of Torget's ffmpeg and of the Torget process (its
idle rate taken off) are read from /proc over a window (``bench.media.run.cpu_run``). The
interpretation node's ffmpeg reads a voice pipe, mixes it over the ducked original sound and
encodes one more AAC rendition; with no interpreter on air the pipe carries silence, which
costs ffmpeg what a voice does.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.fanout.servers import Unavailable
from bench.media.run import CpuRun, _make_clips, cpu_run, ffmpeg_program, idle_rate
from bench.media.run import Plan as MediaPlan
from bench.media.server import MediaServer

Say = Callable[[str], None]
LADDER = (720, 480, 360)  # the shipped ladder
SOURCE = 720


@dataclass(frozen=True)
class Plan:
    """How long to measure, and the languages of the interpreted node."""

    cpu_seconds: float = 15.0
    cpu_warmup: float = 3.0
    languages: tuple[str, ...] = ("en",)


QUICK = Plan(cpu_seconds=6.0, cpu_warmup=2.0)


@dataclass
class InterpretationResult:
    """The same session without and with interpretation."""

    plan: Plan
    without: CpuRun | None = None
    with_interpretation: CpuRun | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def _measure(
    workdir: Path, clip: Path, ffmpeg: str, plan: Plan, languages: tuple[str, ...]
) -> CpuRun:
    name = "-".join(languages) or "none"
    server = MediaServer(workdir / f"node-{name}", LADDER, interpretations=languages)
    await server.start()
    try:
        idle = await idle_rate(server)
        media = MediaPlan(cpu_seconds=plan.cpu_seconds, cpu_warmup=plan.cpu_warmup)
        return await cpu_run(server, ffmpeg, clip, SOURCE, media, idle)
    finally:
        await server.stop()


async def run_async(plan: Plan, say: Say) -> InterpretationResult:
    """Both nodes in turn; failures become notes, never exceptions."""
    result = InterpretationResult(plan)
    started = time.monotonic()
    try:
        ffmpeg = ffmpeg_program()
        with tempfile.TemporaryDirectory(prefix="torget-interpretation-bench-") as tmp:
            workdir = Path(tmp)
            clip = (await _make_clips(ffmpeg, workdir, (SOURCE,)))[SOURCE]
            say("interpretation: CPU without interpretation")
            result.without = await _measure(workdir, clip, ffmpeg, plan, ())
            say(f"interpretation: CPU with {', '.join(plan.languages)}")
            result.with_interpretation = await _measure(workdir, clip, ffmpeg, plan, plan.languages)
    except Unavailable as exc:
        result.notes.append(f"not measured: {exc}")
        say(f"interpretation: not measured: {exc}")
    result.seconds = time.monotonic() - started
    return result


def run(plan: Plan, say: Say = print) -> InterpretationResult:
    """Run the benchmark (blocking)."""
    return asyncio.run(run_async(plan, say))


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.interpretation.run [--quick]``: print the Markdown section."""
    from bench.interpretation.report import markdown

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print(markdown(run(QUICK if args.quick else Plan())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
