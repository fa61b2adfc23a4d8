"""The WebRTC benchmark's section of ``BENCHMARKS.md``."""

from __future__ import annotations

import statistics

from bench.webrtc.run import Result


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def markdown(result: Result) -> str:
    """Tables of the cost per viewer (relay vs decode+encode) and of the latency."""
    lines = [
        "## WebRTC playback (WHEP)",
        "",
        "A 720p30 H.264 clip (2.5 Mbit/s) published over RTMP; aiortc WHEP viewers in another "
        "process (not decoding). CPU and RSS of the Torget process, in cores (1.0 = one core "
        f"busy). With no viewers: {result.baseline_cpu:.3f} cores, "
        f"{result.baseline_rss / 2**20:.0f} MiB. The figure to beat is a decode + encode per "
        f"viewer of the same stream: {result.transcode:.3f} cores each "
        f"(encode alone, as `MediaRelay` does per viewer: {result.encode_only:.3f}).",
        "",
        "| viewers | Torget CPU (cores) | RSS (MiB) | received fps / viewer | Mbit/s / viewer "
        "| load avg | relay cost per viewer at 30 fps (cores) | decode+encode per viewer "
        "(cores) | ratio per viewer | decode+encode for all (cores) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in result.rows:
        extra = max(row.cpu - result.baseline_cpu, 0.0)
        per = extra / (row.viewers * row.fps) * 30 if row.fps > 0 else 0.0
        ratio = f"{result.transcode / per:.0f}x" if per > 0 else "-"
        lines.append(
            f"| {row.viewers} | {row.cpu:.3f} | {row.rss / 2**20:.0f} | {row.fps:.1f} | "
            f"{row.mbps:.2f} | {row.load:.1f} | {per:.4f} | {result.transcode:.3f} | {ratio} | "
            f"{result.transcode * row.viewers:.1f} |"
        )
    lines += [
        "",
        "Relay cost per viewer: the Torget process's CPU above the no-viewer baseline, divided "
        "by the video frames it delivered (viewers x received fps) and scaled to 30 fps, so a "
        "row whose viewers did not get every frame (the machine busy with other work: see the "
        "load average on 2 cores) still gives the cost of what was sent. A full 30 fps row is "
        "the direct measurement. The first viewer also switches on the session's AAC to Opus "
        "conversion (once per session, off while nobody watches over WebRTC), hence the higher "
        "1-viewer figure. Decode+encode for all: what transcoding per viewer would need; "
        "past ~2 cores it cannot run on this machine at all.",
        "",
    ]
    if result.latencies:
        values = result.latencies
        lines += [
            "Glass-to-glass latency over WHEP on loopback (wall clock burned into each 720p "
            "picture by the publisher, read back from the viewer's decoded pictures; publisher "
            "→ ffmpeg → RTMP → Torget → WebRTC → aiortc decode):",
            "",
            "| frames | median (ms) | p95 (ms) | max (ms) |",
            "| --- | --- | --- | --- |",
            f"| {len(values)} | {statistics.median(values):.0f} | {_pct(values, 0.95):.0f} "
            f"| {max(values):.0f} |",
            "",
        ]
    else:
        lines += ["Glass-to-glass latency: no stamped frame was read back.", ""]
    lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines) + "\n"
