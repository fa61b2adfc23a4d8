"""The clip benchmark's figures as a Markdown section of ``BENCHMARKS.md``."""

from __future__ import annotations

from bench.clips.run import CLIP_SECONDS, ClipsResult, Timing

TITLE = "## Clips: cutting a 60 s clip (copy and crop)"


def row(t: Timing) -> str:
    """One case as a table row."""
    how = "stream copy (in on a keyframe)" if t.case.copy else "re-encode"
    if not t.case.copy and t.case.start % 1:
        how += " (in off a keyframe)"
    return (
        f"| {t.case.height}p | {t.case.aspect} | {t.width}x{t.height} | {how} | {t.wall:.1f} | "
        f"{t.cpu:.1f} | {CLIP_SECONDS / t.wall:.1f}x | {t.size_bytes / 1e6:.1f} |"
    )


def markdown(result: ClipsResult) -> str:
    """The section: what was measured, then a row per case."""
    lines = [
        TITLE,
        "",
        f"A {CLIP_SECONDS:g} s clip cut from a {result.plan.recording_seconds:g} s recording "
        "(a test pattern with a tone, H.264 30 fps with a keyframe every second, AAC) with the "
        "clipper's own arguments (`ffmpeg_args.clip_args`, x264 preset "
        f"`{result.plan.preset}`, `crf 21`). Wall time is what an operator waits once the cut "
        "starts; CPU is ffmpeg's user + system seconds (2 cores on this machine).",
        "",
        "| recording | shape | clip size | how | wall s | CPU s | speed | MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *(row(t) for t in result.timings),
        "",
    ]
    return "\n".join(lines)
