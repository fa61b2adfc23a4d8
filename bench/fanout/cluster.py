"""The two-node fan-out benchmark: viewers split over two Torget nodes sharing a redis-server.

For each N, one Torget node (``torget``: the memory engine) and two (``torget-2``: the Redis
engine; N/2 viewers on each node, chat sent to node 1 so every message crosses Redis) are
measured like the one-node benchmark (``bench/fanout/run.py``: delivered share, p50/p99,
server CPU and RSS, here per node and for Redis too), then the scaling ratio at the same N is
printed. One-node figures the fan-out benchmark measured in the same ``python -m bench`` run
(same N and rate) are reused instead of measured again.

    python -m bench.fanout.cluster [--quick] [--viewers 10000,20000] [--rates 100,500]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.fanout.report import cells_table
from bench.fanout.run import Cell, Plan, Say, ServerResult, run_viewers, server_fd_limit


@dataclass(frozen=True)
class ClusterPlan:
    """What the two-node benchmark runs (a few minutes by default)."""

    viewers: tuple[int, ...] = (10_000, 20_000)
    rates: tuple[int, ...] = (100, 500)
    nodes: int = 2
    window: float = 10.0

    def fanout_plan(self) -> Plan:
        """The per-run settings, shared with the one-node benchmark."""
        return replace(Plan(), viewers=self.viewers, rates=self.rates, window=self.window)


CLUSTER_QUICK = ClusterPlan(viewers=(5_000,), rates=(100,))


@dataclass
class ClusterResult:
    """Both set-ups' runs."""

    plan: ClusterPlan
    one: ServerResult
    many: ServerResult
    reused: bool  # the one-node figures come from the fan-out benchmark's run
    seconds: float
    nofile: int
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Scaling:
    """Two nodes against one at the same N and rate."""

    viewers: int
    rate: int
    one: Cell
    many: Cell

    @property
    def p99_ratio(self) -> float | None:
        """p99 with two nodes / p99 with one (below 1: two nodes deliver sooner)."""
        return _ratio(self.many.p99_ms, self.one.p99_ms)

    @property
    def delivered_ratio(self) -> float | None:
        """Delivered share with two nodes / with one."""
        return _ratio(self.many.delivered, self.one.delivered)

    @property
    def busiest_node_cpu(self) -> float:
        """CPU of the busiest node (% of a core); Redis is not a node."""
        nodes = [cpu for label, (cpu, _) in self.many.parts.items() if label != "redis"]
        return max(nodes, default=self.many.server_cpu)

    @property
    def node_cpu_ratio(self) -> float | None:
        """Busiest node's CPU / the single node's (0.5 when each node does half the work)."""
        return _ratio(self.busiest_node_cpu, self.one.server_cpu)

    @property
    def total_cpu_ratio(self) -> float | None:
        """All server-side CPU (nodes and Redis) / the single node's: the price of scaling out."""
        return _ratio(self.many.server_cpu, self.one.server_cpu)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def scaling(one: Iterable[Cell], many: Iterable[Cell]) -> list[Scaling]:
    """Pair the runs of the same (asked N, rate)."""
    single = {(c.asked, c.rate): c for c in one}
    return [
        Scaling(c.asked, c.rate, single[(c.asked, c.rate)], c)
        for c in many
        if (c.asked, c.rate) in single
    ]


async def run_async(plan: ClusterPlan, say: Say, baseline: Iterable[Cell] = ()) -> ClusterResult:
    """Run every N: one node (unless ``baseline`` has it), then ``plan.nodes`` nodes."""
    started = time.monotonic()
    nofile = server_fd_limit()
    run_plan = plan.fanout_plan()
    have = {(c.asked, c.rate): c for c in baseline if c.server == "torget"}
    wanted = [(n, r) for n in plan.viewers for r in plan.rates]
    one = ServerResult("torget")
    many = ServerResult(f"torget-{plan.nodes}")
    reused = all(key in have for key in wanted)
    if reused:
        one.cells = [have[key] for key in wanted]
        say("one-node figures: from the fan-out run above")
    workdir = Path(tempfile.mkdtemp(prefix="torget-bench-cluster-"))
    try:
        for asked in plan.viewers:
            if not reused and not one.unavailable:
                await run_viewers(one, asked, run_plan, workdir, say)
            if not many.unavailable:
                await run_viewers(many, asked, run_plan, workdir, say)
    finally:
        if one.unavailable or many.unavailable or one.notes or many.notes:
            say(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    result = ClusterResult(plan, one, many, reused, time.monotonic() - started, nofile)
    for row in scaling(one.cells, many.cells):
        say(scaling_line(row))
    return result


def run(plan: ClusterPlan, say: Say = print, baseline: Iterable[Cell] = ()) -> ClusterResult:
    """Run the two-node benchmark (blocking). SIGTERM cancels it cleanly: the servers, Redis
    and load generators it started are stopped, not left behind."""

    async def main() -> ClusterResult:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            return await run_async(plan, say, baseline)
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    return asyncio.run(main())


# --- report ------------------------------------------------------------------------------


def _f(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _int(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _mib(value: int) -> str:
    return f"{value / 2**20:.0f} MiB"


def scaling_line(row: Scaling) -> str:
    """One printed line of the scaling ratio."""
    return (
        f"scaling N={row.viewers} {row.rate} msg/s: p99 {_ms(row.one.p99_ms)} -> "
        f"{_ms(row.many.p99_ms)} ms (x{_f(row.p99_ratio)}), busiest node CPU "
        f"{row.one.server_cpu:.0f}% -> {row.busiest_node_cpu:.0f}% (x{_f(row.node_cpu_ratio)}), "
        f"all server CPU x{_f(row.total_cpu_ratio)}, delivered x{_f(row.delivered_ratio, 3)}"
    )


def parts_table(cells: list[Cell]) -> str:
    """CPU and RSS of each process of the multi-node runs."""
    labels = sorted({label for c in cells for label in c.parts})
    if not labels:
        return ""
    head = "| viewers | msg/s | " + " | ".join(f"{label} CPU / RSS" for label in labels) + " |\n"
    head += "| ---: | ---: | " + " | ".join("---:" for _ in labels) + " |\n"
    rows = []
    for c in cells:
        figures = []
        for label in labels:
            cpu, rss = c.parts.get(label, (0.0, 0))
            figures.append(f"{cpu:.0f} % / {_mib(rss)}")
        rows.append(f"| {_int(c.viewers)} | {c.rate} | " + " | ".join(figures) + " |")
    return head + "\n".join(rows) + "\n"


def scaling_table(rows: list[Scaling]) -> str:
    """The scaling ratio per (N, rate)."""
    if not rows:
        return ""
    head = (
        "| viewers | msg/s | p99 ms 1 node | p99 ms 2 nodes | p99 2 / 1 | busiest node CPU "
        "2 / 1 | all server CPU 2 / 1 | delivered 2 / 1 |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    lines = [
        f"| {_int(r.viewers)} | {r.rate} | {_ms(r.one.p99_ms)} | {_ms(r.many.p99_ms)} "
        f"| {_f(r.p99_ratio)} | {_f(r.node_cpu_ratio)} | {_f(r.total_cpu_ratio)} "
        f"| {_f(r.delivered_ratio, 3)} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def markdown(result: ClusterResult) -> str:
    """The two-node section of BENCHMARKS.md."""
    plan = result.plan
    source = (
        "the one-node rows are the fan-out run's above (same N and rate)"
        if result.reused
        else "a one-node run at each N is measured first, the same way"
    )
    parts = [
        f"## Websocket fan-out: {plan.nodes} nodes with Redis\n",
        f"The same runs as the one-node fan-out ({plan.window:.0f} s of chat per rate), with "
        f"N viewers split evenly over {plan.nodes} Torget nodes (`realtime.engine = redis`) "
        "sharing one redis-server the benchmark starts on a loopback port (append-only, "
        "fsync per write) and one SQLite store; chat is sent to node 1, so every message "
        "goes through Redis (XADD + PUBLISH) to both nodes. Nodes, Redis and the load "
        f"generator share this machine's cores: the scaling figures are indicative; {source}.\n",
        "- **server CPU / RSS** of the multi-node rows: the nodes and Redis together; the "
        "second table has each process.\n"
        "- **p99 2 / 1**: p99 with two nodes / with one (below 1: delivered sooner).\n"
        "- **busiest node CPU 2 / 1**: the busier node's CPU / the single node's (0.5 when "
        "each node does half the work); **all server CPU 2 / 1**: nodes + Redis / one node "
        "(what scaling out costs in total).\n",
    ]
    cells = result.one.cells + result.many.cells
    if cells:
        parts.append(cells_table(cells))
    per_process = parts_table(result.many.cells)
    if per_process:
        parts.append("Per process (multi-node runs):\n\n" + per_process)
    table = scaling_table(scaling(result.one.cells, result.many.cells))
    if table:
        parts.append(f"Scaling ratio, {plan.nodes} nodes against one at the same N:\n\n" + table)
    for server in (result.one, result.many):
        if server.unavailable:
            parts.append(f"**{server.unavailable}**: no figures for it in this run.\n")
        for note in server.notes:
            parts.append(f"- {server.name}: {note}\n")
    parts.append(f"Whole run: {result.seconds / 60:.1f} min.\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.fanout.cluster``: run and print the section (BENCHMARKS.md untouched)."""
    parser = argparse.ArgumentParser(prog="python -m bench.fanout.cluster")
    parser.add_argument("--quick", action="store_true", help="N = 5000 at 100 msg/s")
    parser.add_argument("--viewers", help="comma-separated N values")
    parser.add_argument("--rates", help="comma-separated msg/s values")
    parser.add_argument("--window", type=float)
    args = parser.parse_args(argv)
    plan = CLUSTER_QUICK if args.quick else ClusterPlan()
    if args.viewers:
        plan = replace(plan, viewers=tuple(int(v) for v in args.viewers.split(",")))
    if args.rates:
        plan = replace(plan, rates=tuple(int(v) for v in args.rates.split(",")))
    if args.window:
        plan = replace(plan, window=args.window)
    print(markdown(run(plan)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
