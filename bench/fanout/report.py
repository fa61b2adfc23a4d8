"""Markdown tables of the fan-out benchmark's figures."""

from __future__ import annotations

from bench.fanout.run import Cell, FanoutResult


def _int(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _share(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1.0:
        return "100 %"
    return f"{100 * value:.2f} %"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _viewers(cell: Cell) -> str:
    if cell.viewers == cell.asked:
        return _int(cell.viewers)
    return f"{_int(cell.viewers)} (of {_int(cell.asked)})"


def _ratio(a: float | None, b: float | None, digits: int = 2) -> str:
    if a is None or b is None:
        return "-"
    if b == 0:
        return "-" if a == 0 else "∞"
    return f"{a / b:.{digits}f}"


def cells_table(cells: list[Cell]) -> str:
    """One row per run."""
    head = (
        "| server | viewers | msg/s | delivered | p50 ms | p99 ms | server CPU | server RSS "
        "| idle KiB/viewer | loadgen CPU | machine busy | frames/s/viewer | ack p99 ms | notes |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | --- |\n"
    )
    rows = []
    for c in cells:
        idle = "-" if c.idle_per_viewer is None else f"{c.idle_per_viewer / 1024:.1f}"
        fps = "-" if c.frames_per_second is None else f"{c.frames_per_second:.1f}"
        rows.append(
            f"| {c.server} | {_viewers(c)} | {c.rate} | {_share(c.delivered)} "
            f"| {_ms(c.p50_ms)} | {_ms(c.p99_ms)} | {c.server_cpu:.0f} % "
            f"| {c.server_rss / 2**20:.0f} MiB | {idle} | {c.loadgen_cpu:.0f} % "
            f"| {c.machine_busy:.0f} % | {fps} | {_ms(c.ack_p99_ms)} "
            f"| {'; '.join(c.notes)} |"
        )
    return head + "\n".join(rows) + "\n"


def ratio_table(torget: list[Cell], reference: list[Cell]) -> str:
    """Torget / reference per (viewers, rate): p99 (lower is better) and delivered share."""
    ref = {(c.asked, c.rate): c for c in reference}
    head = (
        "| viewers | msg/s | p99 Torget / reference | delivered Torget / reference |\n"
        "| ---: | ---: | ---: | ---: |\n"
    )
    rows = []
    for c in torget:
        r = ref.get((c.asked, c.rate))
        if r is None:
            continue
        rows.append(
            f"| {_viewers(c)} | {c.rate} | {_ratio(c.p99_ms, r.p99_ms)} "
            f"| {_ratio(c.delivered, r.delivered, 3)} |"
        )
    if not rows:
        return ""
    return head + "\n".join(rows) + "\n"


def markdown(result: FanoutResult) -> str:
    """The fan-out section of BENCHMARKS.md."""
    plan = result.plan
    timed = sorted({min(plan.sample, max(50, plan.sample_events // r)) for r in plan.rates})
    parts = [
        "## Websocket fan-out: one room, one node\n",
        "N websocket viewers join one room on one node (a fresh server per N); chat is then "
        f"sent at each rate for {plan.window:.0f} s from separate sender connections (at "
        f"most {plan.sender_rate} msg/s each, text `t=<unix ms> ~...~<run>`), with up to "
        f"{plan.drain_max:.0f} s to drain. Everything runs on this machine over 127.0.0.1.\n",
        "- **delivered**: chat messages received / (messages sent x viewers).\n"
        "- **p50 / p99**: receive wall time - the send time in the text, over every message "
        f"seen by {' or '.join(str(t) for t in timed)} viewers spread evenly over the join "
        f"order (fewer at high rates: at most ~{plan.sample_events} timed messages/s).\n"
        "- **server CPU**: utime + stime of the server process over the window, % of one "
        "core. Loopback TCP work done in softirq is charged to no process, so a saturated "
        "server can show less than 100 %; **machine busy** (all cores, softirq included, "
        "anything else running too) shows the whole box.\n"
        "- **server RSS** at the end of the window; **idle KiB/viewer** = (RSS with N idle "
        "viewers joined - RSS before any) / N.\n"
        "- **loadgen CPU**: the load generator's processes together (viewers + senders).\n"
        "- **frames/s/viewer**: `events` frames a timed viewer got per second; 20 while the "
        "server keeps its 50 ms tick, fewer (with more events each) once it falls behind.\n"
        "- **ack p99**: `chat.send` to its `ack`, as the senders saw it (how late the server "
        "takes messages in).\n",
        "Targets (for context): 20 000 viewers at 100 msg/s all delivered with p99 ≤ 400 ms; "
        "≤ 16 KiB per idle viewer. The reference is `bench/reference/server.js` (Node.js "
        "`ws`, the same 50 ms batches, one encoded frame sent to every member).\n",
    ]
    by_name = {s.name: s for s in result.servers}
    cells = [c for s in result.servers for c in s.cells]
    if cells:
        parts.append(cells_table(cells))
    torget, reference = by_name.get("torget"), by_name.get("reference")
    if torget and reference and torget.cells and reference.cells:
        ratios = ratio_table(torget.cells, reference.cells)
        if ratios:
            parts.append(
                "Torget / reference (the issue: Torget must not be slower; p99 ≤ 1 and "
                "delivered ≥ 1 mean as good or better):\n\n" + ratios
            )
    for server in result.servers:
        if server.unavailable:
            parts.append(f"**{server.unavailable}**: no figures for it in this run.\n")
        for note in server.notes:
            parts.append(f"- {server.name}: {note}\n")
    capped = any(c.viewers < c.asked for c in cells)
    limits = (
        f"Open files per process are limited to {_int(result.nofile)} here (hard limit), "
        "so a single server process cannot hold 20 000 viewers; the largest runs use what "
        "fits.\n"
        if capped
        else ""
    )
    parts.append(
        f"{limits}Load generator: `bench/fanout/loadgen.py` ({result.loop}, hand-written "
        "client handshake and frame walker; most viewers count messages in the raw bytes, "
        f"the sampled ones decode JSON). Whole run: {result.seconds / 60:.1f} min.\n"
    )
    return "\n".join(parts)
