"""Cut 60 s clips from a synthetic recording with the arguments Torget uses, and time them.

The recording is made once per picture size (a test pattern with a tone, H.264 with a keyframe
every second and AAC, as a run MP4 and its concat list, like a replay's ``mp4/`` folder). Each
case is the ``ffmpeg_args.clip_args`` command the clipper runs for that shape: a stream copy
from a keyframe, a re-encode off a keyframe, and the 9:16 and 1:1 crops. Wall time and the CPU
seconds ffmpeg used (children's rusage) are measured.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from streaming.clip_plan import crop_for
from streaming.ffmpeg_args import clip_args, concat_list
from studio.clips import ClipAspect

CLIP_SECONDS = 60.0


@dataclass(frozen=True)
class Case:
    """One clip to cut: the picture size of the recording, the shape, copy or not, the start."""

    height: int
    aspect: ClipAspect
    copy: bool
    start: float


@dataclass(frozen=True)
class Plan:
    """What to measure: the cases, the recording's length, the x264 preset."""

    cases: tuple[Case, ...] = (
        Case(720, ClipAspect.LANDSCAPE, True, 10.0),
        Case(720, ClipAspect.LANDSCAPE, False, 10.4),
        Case(720, ClipAspect.PORTRAIT, False, 10.0),
        Case(720, ClipAspect.SQUARE, False, 10.0),
        Case(1080, ClipAspect.LANDSCAPE, True, 10.0),
        Case(1080, ClipAspect.PORTRAIT, False, 10.0),
    )
    recording_seconds: float = 80.0
    preset: str = "veryfast"


QUICK = Plan(
    cases=(
        Case(720, ClipAspect.LANDSCAPE, True, 10.0),
        Case(720, ClipAspect.PORTRAIT, False, 10.0),
    ),
)


@dataclass(frozen=True)
class Timing:
    """How long one case took: wall and CPU seconds, the output's size."""

    case: Case
    width: int
    height: int
    wall: float
    cpu: float
    size_bytes: int


@dataclass(frozen=True)
class ClipsResult:
    """Every case's timing, and the plan."""

    plan: Plan
    timings: tuple[Timing, ...]


def _ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        raise SystemExit("ffmpeg is not installed (make deps-system)")
    return found


def _recording(folder: Path, height: int, seconds: float, ffmpeg: str) -> Path:
    """A run MP4 of ``seconds`` at 16:9 ``height``p30 and its concat list; the list's path."""
    width = height * 16 // 9
    run = folder / f"r{height}.mp4"
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-sc_threshold", "0",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128000", str(run),
        ],
        check=True,
        timeout=600,
    )  # fmt: skip
    listing = folder / f"runs{height}.txt"
    listing.write_text(concat_list([str(run)]), encoding="utf-8")
    return listing


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(plan: Plan, say: Callable[[str], None] = print) -> ClipsResult:
    """Cut every case of ``plan`` and time it."""
    ffmpeg = _ffmpeg()
    timings = []
    with tempfile.TemporaryDirectory(prefix="torget-bench-clips-") as tmp:
        folder = Path(tmp).resolve()
        lists: dict[int, Path] = {}
        for case in plan.cases:
            if case.height not in lists:
                say(f"clips: making a {plan.recording_seconds:g} s {case.height}p recording")
                lists[case.height] = _recording(folder, case.height, plan.recording_seconds, ffmpeg)
            width = case.height * 16 // 9
            crop = crop_for(case.aspect, width, case.height)
            out = folder / "clip.mp4"
            args = clip_args(
                str(lists[case.height]), str(out), start=case.start, duration=CLIP_SECONDS,
                concat=True, copy=case.copy, crop=crop, preset=plan.preset, ffmpeg=ffmpeg,
            )  # fmt: skip
            cpu, began = _children_cpu(), time.monotonic()
            subprocess.run(args, check=True, timeout=1800)
            wall, used = time.monotonic() - began, _children_cpu() - cpu
            size = (crop.width, crop.height) if crop else (width, case.height)
            timing = Timing(case, size[0], size[1], wall, used, out.stat().st_size)
            say(f"clips: {case.height}p {case.aspect} copy={case.copy}: {wall:.1f} s")
            timings.append(timing)
    return ClipsResult(plan, tuple(timings))
