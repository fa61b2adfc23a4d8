"""The join-storm benchmark: N websocket viewers join one room at once (a dead node's viewers
reconnecting to the others), on Torget and on the Node.js reference side by side.

For each case (server, viewers): start a fresh deployment (``bench.fanout.servers``: one
Torget node, two Torget nodes sharing a redis-server, or the reference ``ws`` server), then
start ``processes`` storm generators (``bench.joinstorm.storm``) at the same wall time; each
opens its share of the viewers at once. Reported per case: how many joined, the seconds until
the last one got ``joined`` (the figure the targets are about: 10 000 within 5 s on one node,
20 000 within 10 s on two), the p50/p99 of the join times, the same for the upgrade (101, the
connect time), and failures. The servers' CPU over the storm is read from /proc.

``python -m bench.joinstorm.run [--quick] [--cases torget:10000,reference:10000]`` runs it
alone; ``python -m bench joinstorm`` runs it and writes BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp

from bench.fanout.procstat import CLOCK_TICKS, machine_ticks, total_cpu
from bench.fanout.run import FD_RESERVE, OTHER_LOAD_NOTE, make_deployment, server_fd_limit
from bench.fanout.servers import REPO, Deployment, Unavailable, stop_process

Say = Callable[[str], None]
START_DELAY_S = 2.0  # generators are started, then all begin at the same wall time


@dataclass(frozen=True)
class Plan:
    """What to run: (server, viewers) cases, and how the storm is made."""

    cases: tuple[tuple[str, int], ...] = (
        ("reference", 10_000),
        ("torget", 10_000),
        ("reference", 20_000),
        ("torget-2", 20_000),
    )
    processes: int = 2  # storm generators (the machine's cores are shared with the server)
    history: int = 200  # chat messages in the room before the storm (Torget keeps 200)
    # Per generator: handshakes under way at once (0: every viewer at once). 2 x 1000 stays
    # below the kernel's default accept queue (net.core.somaxconn = 4096): past it the kernel
    # drops SYNs, retried after 1, 3, 7 s, and the figures measure those timers, not servers.
    inflight: int = 1000
    timeout: float = 120.0  # per viewer
    sources: tuple[str, ...] = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")


QUICK = Plan(cases=(("reference", 2_000), ("torget", 2_000)))


@dataclass
class Case:
    """The figures of one storm."""

    server: str
    nodes: int
    asked: int
    viewers: int = 0  # viewers sent (asked, capped by the open-file limit)
    joined: int = 0
    all_joined_s: float | None = None  # until the last viewer got ``joined``
    join_p50_s: float | None = None
    join_p99_s: float | None = None
    upgrade_p50_s: float | None = None
    upgrade_p99_s: float | None = None
    all_upgraded_s: float | None = None
    server_cpu: float = 0.0  # % of one core over the storm, all server processes
    cpu_per_join_us: float | None = None  # server CPU time over the storm / viewers joined
    other_cpu: float = 0.0  # % of one core used by neither the servers nor the generators
    failures: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unavailable: str = ""

    def line(self) -> str:
        """One progress line."""
        if self.unavailable:
            return f"{self.server:>9} N={self.asked}: unavailable ({self.unavailable})"
        return (
            f"{self.server:>9} N={self.viewers:>6}: {self.joined} joined, all in "
            f"{_s(self.all_joined_s)} s (p50 {_s(self.join_p50_s)}, p99 {_s(self.join_p99_s)});"
            f" upgrades all in {_s(self.all_upgraded_s)} s; server {self.server_cpu:.0f}%"
            f" ({_s(self.cpu_per_join_us and self.cpu_per_join_us / 1000)} ms/join);"
            f" others {self.other_cpu:.0f}%"
            + (f"; failures {self.failures}" if self.failures else "")
        )


@dataclass
class StormResult:
    """Every case."""

    plan: Plan
    cases: list[Case]
    seconds: float


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of sorted ``values`` (nearest rank)."""
    if not values:
        return None
    return values[max(0, math.ceil(q * len(values)) - 1)]


async def _generator(args: list[str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.joinstorm.storm", *args,
            cwd=REPO, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=err, limit=1 << 26,
        )  # fmt: skip


async def prefill(deployment: Deployment, messages: int) -> str:
    """Post ``messages`` chat messages in the room (its history before the storm) from one
    client on the first node; return the last message's id (what reconnecting viewers saw)."""
    host, port = deployment.endpoints[0]
    last = ""
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"http://{host}:{port}{deployment.path}") as ws,
    ):
        await ws.send_json({"type": "join", "room": deployment.room, "ref": "join"})
        for index in range(messages):
            text = f"message {index} before the storm"
            await ws.send_json({"type": "chat.send", "room": deployment.room, "text": text,
                                "ref": f"m{index}"})  # fmt: skip
            while True:
                frame = await ws.receive_json(timeout=10)
                if frame.get("type") in ("ack", "error") and frame.get("ref") == f"m{index}":
                    last = str(frame.get("id") or last)
                    break
    return last


async def storm(deployment: Deployment, case: Case, plan: Plan, workdir: Path) -> None:
    """Run one storm against a started deployment and fill ``case``."""
    cap = server_fd_limit() * len(deployment.endpoints) - FD_RESERVE
    case.viewers = min(case.asked, cap)
    if case.viewers < case.asked:
        case.notes.append(f"{case.viewers} of {case.asked} viewers: RLIMIT_NOFILE")
    after = await prefill(deployment, plan.history) if plan.history else ""
    await asyncio.sleep(1.0)  # the prefill's fan-out is over
    at = time.time() + START_DELAY_S
    common = ["--room", deployment.room, "--path", deployment.path, "--at", f"{at:.3f}"]
    if after:
        common += ["--after", after]
    common += ["--inflight", str(plan.inflight), "--timeout", str(plan.timeout)]
    for host, port in deployment.endpoints:
        common += ["--endpoint", f"{host}:{port}"]
    for source in plan.sources:
        common += ["--source", source]
    generators = []
    offset = 0
    for index in range(plan.processes):
        share = case.viewers // plan.processes + (1 if index < case.viewers % plan.processes else 0)
        args = [*common, "--count", str(share), "--offset", str(offset)]
        generators.append(await _generator(args, workdir / "storm.log"))
        offset += share
    await asyncio.sleep(max(0.0, at - time.time()))
    load_pids = [proc.pid for proc in generators]
    cpu0, load0, t0 = total_cpu(deployment.pids), total_cpu(load_pids), time.monotonic()
    busy0, _, all0 = machine_ticks()
    reports: list[dict[str, Any]] = []
    for proc in generators:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), plan.timeout + 60)
        reports.append(json.loads(line) if line else {"joined": [], "upgraded": [], "failed": {}})
    seconds = max(time.monotonic() - t0, 1e-6)
    server = total_cpu(deployment.pids) - cpu0
    load = total_cpu(load_pids) - load0
    busy1, _, all1 = machine_ticks()
    cores = (all1 - all0) / CLOCK_TICKS / seconds
    busy = 100 * (busy1 - busy0) / max(1, all1 - all0) * cores  # % of one core
    case.server_cpu = 100 * server / seconds
    case.other_cpu = max(0.0, busy - case.server_cpu - 100 * load / seconds)
    for proc in generators:
        await stop_process(proc, 5.0)
    joined = sorted(t for r in reports for t in r["joined"] if t >= 0)
    upgraded = sorted(t for r in reports for t in r["upgraded"] if t >= 0)
    failures: Counter[str] = Counter()
    for r in reports:
        failures.update(r.get("failed", {}))
    case.joined = len(joined)
    if joined:
        case.cpu_per_join_us = 1e6 * server / len(joined)
    if case.other_cpu > OTHER_LOAD_NOTE:
        case.notes.append(f"other processes used {case.other_cpu:.0f} % of a core meanwhile")
    case.failures = dict(failures.most_common(3))
    if joined:
        case.all_joined_s = joined[-1]
        case.join_p50_s, case.join_p99_s = quantile(joined, 0.5), quantile(joined, 0.99)
    if upgraded:
        case.all_upgraded_s = upgraded[-1]
        case.upgrade_p50_s = quantile(upgraded, 0.5)
        case.upgrade_p99_s = quantile(upgraded, 0.99)
    if case.joined < case.viewers:
        case.notes.append(f"{case.viewers - case.joined} viewers did not join")


async def run_case(server: str, viewers: int, plan: Plan, workdir: Path, say: Say) -> Case:
    """Start ``server`` fresh, storm it with ``viewers``, stop it."""
    nodes = int(server.split("-", 1)[1]) if server.startswith("torget-") else 1
    case = Case(server, nodes, viewers)
    deployment = make_deployment(server, workdir / f"{server}-{viewers}")
    try:
        await deployment.start()
        await asyncio.sleep(1.0)
        await storm(deployment, case, plan, workdir)
    except Unavailable as exc:
        case.unavailable = str(exc)
    finally:
        await deployment.stop()
    case.notes += deployment.notes
    say(case.line())
    return case


async def run_all(plan: Plan, say: Say) -> StormResult:
    """Every case of ``plan``, one after another."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="torget-joinstorm-") as tmp:
        cases = [await run_case(s, n, plan, Path(tmp), say) for s, n in plan.cases]
    return StormResult(plan, cases, time.monotonic() - started)


def run(plan: Plan, say: Say = print) -> StormResult:
    """Run the benchmark (blocking)."""
    return asyncio.run(run_all(plan, say))


def _cases(text: str) -> tuple[tuple[str, int], ...]:
    out = []
    for item in text.split(","):
        server, _, count = item.partition(":")
        out.append((server.strip(), int(count)))
    return tuple(out)


def main(argv: list[str] | None = None) -> int:
    """Run the join storm alone and print its section."""
    from bench.joinstorm.report import markdown

    parser = argparse.ArgumentParser(prog="python -m bench.joinstorm.run")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", type=_cases, help="e.g. torget:10000,reference:10000")
    parser.add_argument("--processes", type=int)
    parser.add_argument("--inflight", type=int)
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    if args.cases:
        plan = replace(plan, cases=args.cases)
    if args.processes:
        plan = replace(plan, processes=args.processes)
    if args.inflight is not None:
        plan = replace(plan, inflight=args.inflight)
    print(markdown(run(plan)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
