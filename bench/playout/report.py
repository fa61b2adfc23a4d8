"""The playout benchmark's section of ``BENCHMARKS.md``."""

from __future__ import annotations

from bench.playout.run import Result

TARGET = 0.05  # cores per studio: playout is stream copy


def markdown(result: Result) -> str:
    """A table of the Torget process's CPU while players follow a channel's playout."""
    lines = [
        "## Studio channel playout",
        "",
        "A 720p session (2.5 Mbit/s, passthrough) recorded, then played out on its studio's "
        "channel (`/hls/c/{studio}/`); HLS players in another process follow both media "
        "playlists each second and fetch every new segment. CPU of the Torget process in cores "
        f"(1.0 = one core busy); target: at most {TARGET:.2f} cores per studio (stream copy, "
        "no ffmpeg).",
        "",
    ]
    if result.skipped:
        return "\n".join([*lines, f"Not measured: {result.skipped}.", ""])
    lines += [
        f"With no players: {result.baseline_cpu:.3f} cores.",
        "",
        "| players | Torget CPU (cores) | over the idle node (cores) | files fetched / s "
        "| ffmpeg processes | within target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in result.rows:
        extra = max(row.cpu - result.baseline_cpu, 0.0)
        ok = "yes" if extra <= TARGET and row.children == 0 else "no"
        lines.append(
            f"| {row.players} | {row.cpu:.3f} | {extra:.3f} | {row.segments_per_second:.1f} | "
            f"{row.children} | {ok} |"
        )
    return "\n".join([*lines, ""])
