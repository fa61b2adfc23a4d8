"""The media benchmark's figures as a Markdown section of ``BENCHMARKS.md``."""

from __future__ import annotations

import statistics

from bench.media.playlist import summarize
from bench.media.reader import Delays
from bench.media.run import CpuRun, MediaResult, ladder_name

FIRST_TARGET = 3.0


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _verdict(value: float | None, target: float) -> str:
    if value is None:
        return "-"
    return "within" if value <= target else "**over**"


def first_table(result: MediaResult) -> list[str]:
    """Publish → first part / segment, median over the runs."""
    runs = result.first
    lines = [
        "| from the publisher's first byte to | median s | min s | max s | runs | target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, values in (
        ("first LL-HLS part listed and fetched", [r.part for r in runs if r.part is not None]),
        ("first segment listed and fetched", [r.segment for r in runs if r.segment is not None]),
    ):
        if values:
            median = statistics.median(values)
            lines.append(
                f"| {label} | {median:.2f} | {min(values):.2f} | {max(values):.2f} | "
                f"{len(values)} of {len(runs)} | ≤ {FIRST_TARGET:.0f} s "
                f"({_verdict(median, FIRST_TARGET)}) |"
            )
        else:
            lines.append(f"| {label} | - | - | - | 0 of {len(runs)} | ≤ {FIRST_TARGET:.0f} s |")
    return lines


def _first_errors(result: MediaResult) -> list[str]:
    errors = [f"- run {i + 1}: {r.error}" for i, r in enumerate(result.first) if r.error]
    return [*errors, ""] if errors else []


def _latency_row(label: str, values: list[float], target: float | None) -> str:
    found = summarize(values)
    if found is None:
        return f"| {label} | - | - | - | 0 | {'-' if target is None else f'≤ {target:.0f} s'} |"
    goal = "-"
    if target is not None:
        goal = f"≤ {target:.0f} s ({_verdict(found.median, target)})"
    return (
        f"| {label} | {found.median:.2f} | {found.p10:.2f} | {found.p90:.2f} | "
        f"{found.count} | {goal} |"
    )


def latency_table(result: MediaResult) -> list[str]:
    """How late the freshest frame each reader fetched was (delivery, not a player)."""
    latency = result.latency
    if latency is None:
        return ["(not measured)"]
    ll: Delays = latency.low_latency
    hls: Delays = latency.classic
    lines = [
        "| frame | median s | p10 s | p90 s | samples | target |",
        "| --- | --- | --- | --- | --- | --- |",
        _latency_row("LL-HLS, newest frame of each part fetched", ll.newest, None),
        _latency_row("HLS, newest frame of each segment fetched", hls.newest, None),
    ]
    return lines


def cpu_table(runs: list[CpuRun], cores: int, headroom: float) -> list[str]:
    """CPU per session and the estimated sessions per node."""
    lines = [
        "| ladder | source | renditions served | Torget's ffmpeg | Torget process | "
        f"per session | sessions per {cores}-core node (estimate) | publisher | machine busy |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        served = ", ".join(f"{v.resolution[1]}p" if v.resolution else v.uri for v in run.renditions)
        per = run.session_cores
        estimate = "-" if not per else f"{int(cores * headroom / per)}"
        if run.error:
            served = f"{served} ({run.error})"
        lines.append(
            f"| {ladder_name(run.ladder)} | {run.source}p30 | {served or '-'} | "
            f"{_pct(run.ffmpeg_cores)} | {_pct(run.torget_cores)} | {_pct(per)} | {estimate} | "
            f"{_pct(run.publisher_cores)} | {_pct(run.machine_busy)} |"
        )
    return lines


def rung_table(runs: list[CpuRun]) -> list[str]:
    """What each ladder rung adds to passthrough, per source height."""
    base = {r.source: r.ffmpeg_cores for r in runs if not r.ladder and r.ffmpeg_cores}
    lines = [
        "| rendition | from a 720p30 source | from a 1080p30 source |",
        "| --- | --- | --- |",
    ]
    rungs = sorted({r.ladder[0] for r in runs if len(r.ladder) == 1}, reverse=True)
    for rung in rungs:
        cells = []
        for source in (720, 1080):
            found = [
                r for r in runs if r.ladder == (rung,) and r.source == source and r.ffmpeg_cores
            ]
            if found and source in base and found[0].ffmpeg_cores is not None:
                cells.append(_pct(found[0].ffmpeg_cores - base[source]))
            else:
                cells.append("-" if rung < source else "not made (source not taller)")
        lines.append(f"| {rung}p | {cells[0]} | {cells[1]} |")
    return lines


def markdown(result: MediaResult) -> str:
    """The benchmark's section of BENCHMARKS.md."""
    plan = result.plan
    latency = result.latency
    sources = ", ".join(f"{s}p30" for s in plan.sources)
    out = [
        "## Live media: RTMP in, HLS and LL-HLS out",
        "",
        "A real Torget node (`python -m torget serve`, media plane on, loopback ports, "
        f"{result.ffmpeg}, segments of 1 s, parts of 0.2 s, x264 preset `veryfast` for the "
        "ladder) with real ffmpeg publishers over RTMP; readers on the same machine and clock.",
        "",
        "### Publish to first playable segment",
        "",
        "ffmpeg publishes a pre-encoded 720p30 clip (keyframe every 1 s) in real time; the time "
        "runs from its first byte on the RTMP connection (seen by a loopback proxy) until the "
        "source playlist lists the first part (segment) and that file is fetched.",
        "",
        *first_table(result),
        "",
        *_first_errors(result),
        "### Delivery latency (newest frame fetched)",
        "",
        f"A Python publisher (PyAV) makes {plan.latency_size[0]}x{plan.latency_size[1]} frames "
        "at 30 fps in real time with the wall clock burned in as 64 black/white blocks, encodes "
        "them with x264 `zerolatency` (keyframe every 1 s) and pipes FLV into "
        "`ffmpeg -c copy -f flv rtmp://...`. Two players follow the source rendition for "
        f"{plan.latency_seconds:.0f} s at once and decode every frame they fetch: LL-HLS "
        "(blocking reloads with `_HLS_msn`/`_HLS_part`, each part fetched when listed) and "
        "classic HLS (plain reloads every segment duration, half that when unchanged; whole "
        "segments). Delay = clock when the frame is decoded - clock burned into it, for the "
        "freshest frame fetched: how fast the node delivers, not what a player shows (a player "
        "holds back from the live edge). What viewers see, in the product's page and a real "
        'browser: the "Viewer latency" section.',
        "",
        *latency_table(result),
        "",
    ]
    if latency is not None:
        out.append(
            f"Live playlists say TARGETDURATION {latency.target_duration:.0f}, "
            f"PART-HOLD-BACK {_s(latency.part_hold_back)} s; segments last "
            f"{_s(latency.segment_seconds)} s on average. A classic HLS player holds back "
            "3 x TARGETDURATION, so that value, not the segment length, sets its delay. "
            f"The publisher (PyAV encoder + ffmpeg relay) used {_pct(latency.publisher_cores)} "
            "of a core."
        )
        for name, delays in (("LL-HLS", latency.low_latency), ("HLS", latency.classic)):
            if delays.errors or delays.unreadable:
                out.append(
                    f"{name} reader: {delays.unreadable} frames without a readable clock; "
                    + "; ".join(delays.errors)
                )
        if latency.error:
            out.append(f"Not measured: {latency.error}.")
        out.append("")
    out += [
        "### CPU per live session",
        "",
        f"One node per ladder; ffmpeg publishes a pre-encoded clip ({sources}, "
        "testsrc2 pattern, 4 Mbit/s at 720p, 6 Mbit/s at 1080p) in a loop with "
        "`-c:v copy` (a 440 Hz tone encoded to AAC alongside). After the first segment "
        f"and {plan.cpu_warmup:.0f} s more, CPU seconds per "
        f"wall second over {plan.cpu_seconds:.0f} s (from /proc): Torget's ffmpeg for the "
        "session, the Torget process (its idle rate taken off: RTMP ingest, fragment "
        "scanning), and the publisher separately. 100 % = one core.",
        "",
        *cpu_table(result.cpu, plan.cores, plan.headroom),
        "",
        f"**Estimate**, not measured: sessions per node = {plan.cores} cores x "
        f"{plan.headroom:.0%} headroom / per-session CPU, ignoring viewers' HLS traffic "
        '(served by nginx/CDN in front) and the memory/disk bandwidth. "machine busy" is all '
        "cores during the window, other processes included: well above the session's own share "
        "means the figures were taken on a loaded machine.",
        "",
        "What each ladder rendition adds to passthrough alone (ffmpeg CPU, one rung per run):",
        "",
        *rung_table(result.cpu),
        "",
    ]
    for note in result.notes:
        out.append(f"- {note}")
    if result.notes:
        out.append("")
    out.append(f"Media benchmark time: {result.seconds / 60:.1f} min.")
    out.append("")
    return "\n".join(out)
