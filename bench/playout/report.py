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
    first = result.rows[0] if result.rows else None
    if first is not None:
        playout = max(first.cpu - result.baseline_cpu, 0.0)
        ok = playout <= TARGET and all(row.children == 0 for row in result.rows)
        lines += [
            f"With no players: {result.baseline_cpu:.3f} cores. The playout itself (the channel "
            f"stitched and listed, one player following it): {playout:.3f} cores over the idle "
            f"node, {'within' if ok else 'over'} the target. More players add HLS delivery "
            "(playlists and segments served by the node), as any viewer does; behind nginx or "
            "a CDN (`deploy/`) the cache serves them.",
            "",
        ]
    lines += [
        "| players | Torget CPU (cores) | over the idle node (cores) | files fetched / s "
        "| per extra player (cores) | ffmpeg processes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in result.rows:
        extra = max(row.cpu - result.baseline_cpu, 0.0)
        per = "-"
        if first is not None and row.players > first.players:
            per = f"{max(row.cpu - first.cpu, 0.0) / (row.players - first.players):.4f}"
        lines.append(
            f"| {row.players} | {row.cpu:.3f} | {extra:.3f} | {row.segments_per_second:.1f} | "
            f"{per} | {row.children} |"
        )
    return "\n".join([*lines, ""])
