"""The HLS cache benchmark's figures as a Markdown section of ``BENCHMARKS.md``."""

from __future__ import annotations

from bench.hlscache.run import HlsCacheResult
from bench.hlscache.stats import Figures

TITLE = "## HLS at event scale: LL-HLS players through nginx's cache"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{1000 * value:.0f}"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _n(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def row(f: Figures) -> str:
    """One run as a table row."""
    cpu = " / ".join(f"{f.cpu.get(k, 0.0):.2f}" for k in ("nginx", "nodes", "players"))
    busy = "-" if f.machine_busy is None else f"{100 * f.machine_busy:.0f} %"
    return (
        f"| {_n(f.players)} | {f.origin_per_second:.1f} | {f.forwarded / f.seconds:.1f} | "
        f"{_n(round(f.player_per_second))} | {_ms(f.part_p50)} / {_ms(f.part_p99)} | "
        f"{_s(f.behind_p50)} / {_s(f.behind_p99)} | {100 * f.coverage:.1f} % | {f.errors} | "
        f"{cpu} | {busy} |"
    )


def reached(f: Figures) -> str:
    """What reached the nodes in one run (nginx's log of requests that were not cache hits)."""
    kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(f.reached_nodes.items()))
    return f"- {_n(f.players)} players: {kinds or 'nothing'}"


def saturated(f: Figures) -> str:
    """A note for a run where the machine, not the deployment, set the limit ('' if none)."""
    if f.coverage >= 0.95 or f.machine_busy is None or f.machine_busy < 0.9:
        return ""
    return (
        f"\nAt {_n(f.players)} players this machine was saturated (busy "
        f"{100 * f.machine_busy:.0f} %, the players' processes using "
        f"{f.cpu.get('players', 0.0):.2f} cores): the players fetched "
        f"{100 * f.coverage:.0f} % of the parts and fell behind, so that row's fetch times and "
        "distances show the load generator's limit; its origin requests per second still do "
        "not grow."
    )


def markdown(result: HlsCacheResult) -> str:
    """The section."""
    plan = result.plan
    lines = [
        TITLE,
        "",
        "The scaled-out shape started from the repository's own files (`tests/support/cluster.py`: "
        f"nginx {result.nginx or '?'} with `deploy/nginx.conf.template`, two Torget nodes with "
        "`deploy/torget.env`, PostgreSQL, Redis; loopback ports). ffmpeg publishes a looped "
        f"{plan.clip_height}p30 clip over RTMP to node 1, which holds the session's media (the "
        f"origin). Parts of {_s(result.part_target)} s, PART-HOLD-BACK "
        f"{_s(result.part_hold_back)} s.",
        "",
        "Each simulated player does what hls.js does in low-latency mode on the source "
        "rendition: the multivariant and media playlists, then every new part and a blocking "
        "reload (`_HLS_msn`/`_HLS_part`) for the next, one request after the other on one "
        "keep-alive connection, each with its own `?v=<viewer id>`. Players start spread over "
        f"{plan.ramp:.0f} s; after {plan.warmup:.0f} s more, {plan.window:.0f} s are measured. "
        f"{plan.processes} player processes on the same machine: the load is bounded by their CPU, "
        "and *kept up* says which share of the parts listed in the window each player fetched.",
        "",
        "- *origin requests/s*: HLS requests the node holding the media answered (its "
        "`/metrics`; a watcher's own blocking reloads taken off), *forwarded* those of them that "
        "nginx sent to the other node, which passed them on;",
        "- *part fetch*: from a player's request for a part to its last byte;",
        "- *behind the origin*: from the moment the origin first listed a part to the moment a "
        "player had it (a player shows it PART-HOLD-BACK later).",
        "",
        "| players | origin requests/s | forwarded/s | player requests/s | part fetch p50 / p99 ms "
        "| behind the origin p50 / p99 s | kept up | errors | CPU nginx / nodes / players (cores) "
        "| machine busy |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *[row(f) for f in result.runs],
        "",
        "What reached the nodes during each window (nginx's log of requests that were not cache "
        "hits, by kind, status and cache status):",
        "",
        *[reached(f) for f in result.runs],
        "",
        "nginx's `proxy_cache_lock` looks for the first request's answer every 500 ms (fixed in "
        "nginx): a player whose blocking reload waited behind another player's gets the "
        "playlist up to 0.5 s after the origin gave it. That is the distance behind the origin "
        "(about 0.25 s at the median, 0.5 s at p99) while the players keep up; the origin's "
        "load does not grow with the players.",
        *[note for f in result.runs if (note := saturated(f))],
    ]
    if result.notes:
        lines += ["", *[f"Note: {note}" for note in result.notes]]
    return "\n".join(lines) + "\n"
