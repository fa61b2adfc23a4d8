"""Orchestrate the fan-out benchmark: one run per (server, viewers, chat rate).

For each number of viewers N, for each server in turn: start a fresh server, read its RSS,
connect N viewers into one room (load-generator processes of at most ``viewers_per_process``
each, ramped ``concurrency`` handshakes at a time), read the RSS again (memory per idle
viewer), then for each chat rate: send ``rate * window`` messages from separate sender
connections, measure the server's, the generator's and the machine's CPU over the window, wait
for the drain, and collect delivered share and latency percentiles. Then stop everything.

Several nodes (the "two nodes with Redis" benchmark, ``bench/fanout/cluster.py``): server name
``torget-2`` (``servers.Torget(nodes=2)``, with its own redis-server) gets its viewers spread
over the endpoints and its senders on the first; CPU and RSS are summed over its processes
(nodes and Redis) and kept per process in ``Cell.parts``.

``python -m bench.fanout.run [--quick] [--servers reference,torget]`` runs it alone;
``python -m bench`` runs it and writes BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.fanout.procstat import CLOCK_TICKS, machine_ticks, total_cpu, total_rss
from bench.fanout.servers import REPO, Deployment, Reference, Torget, Unavailable, stop_process

SERVERS = ("torget", "reference")
OTHER_LOAD_NOTE = 15.0  # % of a core used by other processes worth a note (a shared machine)
FD_RESERVE = 100  # descriptors a server needs besides its viewers (store, listeners, stdio...)

Say = Callable[[str], None]
LOOPS: set[str] = set()  # event loops the generator processes ran on


@dataclass(frozen=True)
class Plan:
    """What to run, and how."""

    viewers: tuple[int, ...] = (1_000, 5_000, 10_000, 20_000)
    rates: tuple[int, ...] = (10, 100, 500)
    servers: tuple[str, ...] = SERVERS
    window: float = 10.0  # seconds of chat per run
    drain_max: float = 8.0  # longest wait for late messages after the window
    quiet: float = 2.0  # the drain ends early after this long without a new message
    settle: float = 1.0  # pause after the ramp before reading the idle RSS
    sample: int = 250  # viewers (spread over the join order) whose latencies are recorded
    sample_events: int = 25_000  # at most this many timed events/s: fewer samples when fast
    viewers_per_process: int = 20_000  # one process: the generator never takes both cores
    sender_rate: int = 50  # messages per second per sender connection
    sources: tuple[str, ...] = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
    concurrency: int = 100  # handshakes in flight, all generator processes together
    lowat: int = 16_384  # SO_RCVLOWAT of the counting viewers (1: read every frame at once)


QUICK = Plan(viewers=(1_000, 5_000), rates=(100,))


@dataclass
class Cell:
    """The figures of one run."""

    server: str
    asked: int  # viewers asked for
    viewers: int  # viewers connected and joined
    rate: int
    sent: int = 0
    acked: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    expected: int = 0
    received: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_cpu: float = 0.0  # % of one core
    server_rss: int = 0  # bytes, at the end of the window
    idle_per_viewer: float | None = None  # bytes
    loadgen_cpu: float = 0.0  # % of one core, all generator processes
    machine_busy: float = 0.0  # % of all cores busy (anything, softirq included)
    other_cpu: float = 0.0  # % of one core used by neither server, generator nor softirq
    frames_per_second: float | None = None  # events frames per sampled viewer per second
    samples: int = 0  # viewers whose latencies were recorded
    ack_p99_ms: float | None = None  # chat.send -> ack, as the senders saw it
    dropped: int = 0  # viewers the server disconnected
    drain_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    parts: dict[str, tuple[float, int]] = field(default_factory=dict)  # label: (CPU %, RSS)

    @property
    def delivered(self) -> float | None:
        """Messages received / messages expected (sent x viewers)."""
        return self.received / self.expected if self.expected else None

    def line(self) -> str:
        """One progress line."""
        share = f"{self.delivered:.2%}" if self.delivered is not None else "-"
        return (
            f"{self.server:>9} N={self.viewers:>6} {self.rate:>3} msg/s: delivered {share:>7}"
            f"  p50 {_ms(self.p50_ms):>6} p99 {_ms(self.p99_ms):>6} ms"
            f"  ack p99 {_ms(self.ack_p99_ms):>5} ms"
            f"  server {self.server_cpu:5.1f}% {self.server_rss / 2**20:6.1f} MiB"
            f"  loadgen {self.loadgen_cpu:5.1f}%  machine {self.machine_busy:3.0f}% busy"
            + (f"  [{'; '.join(self.notes)}]" if self.notes else "")
        )


@dataclass
class ServerResult:
    """Every run of one server, or why it could not be measured."""

    name: str
    cells: list[Cell] = field(default_factory=list)
    unavailable: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class FanoutResult:
    """The whole benchmark."""

    plan: Plan
    servers: list[ServerResult]
    seconds: float
    nofile: int
    loop: str


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def percentile(hist: Counter[int], q: float) -> float | None:
    """The ``q`` quantile (0..1) of a histogram of whole milliseconds."""
    total = sum(hist.values())
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return float(value)
    return float(max(hist))


class BenchError(Exception):
    """A run went wrong (a generator died, a timeout)."""


class Worker:
    """A load-generator process spoken to in JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc = proc
        self.name = name

    @classmethod
    async def spawn(cls, name: str, args: list[str], log: Path) -> Worker:
        """Start ``python -m bench.fanout.loadgen ARGS`` (stderr into ``log``)."""
        with log.open("ab") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.fanout.loadgen", *args,
                cwd=REPO, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=err, limit=1 << 24,
            )  # fmt: skip
        return cls(proc, name)

    async def read(self, limit_s: float) -> dict[str, Any]:
        """The next JSON line from the worker."""
        assert self.proc.stdout is not None
        try:
            async with asyncio.timeout(limit_s):
                while True:
                    line = await self.proc.stdout.readline()
                    if not line:
                        raise BenchError(f"{self.name} exited ({self.proc.returncode})")
                    with contextlib.suppress(ValueError):
                        answer: dict[str, Any] = json.loads(line)
                        return answer
        except TimeoutError:
            raise BenchError(f"{self.name} did not answer within {limit_s:.0f} s") from None

    async def tell(self, command: dict[str, Any]) -> None:
        """Send one command line."""
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        await self.proc.stdin.drain()

    async def ask(self, command: dict[str, Any], limit_s: float = 30.0) -> dict[str, Any]:
        """Send a command and read its answer."""
        await self.tell(command)
        return await self.read(limit_s)

    async def quit(self) -> None:
        """Ask the worker to close its connections and exit; kill it if it does not."""
        with contextlib.suppress(OSError, RuntimeError):
            await self.tell({"cmd": "quit"})
        await stop_process_after(self.proc, 10.0)


async def stop_process_after(proc: asyncio.subprocess.Process, seconds: float) -> None:
    """Wait up to ``seconds`` for ``proc`` to exit by itself, then stop it."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), seconds)
    await stop_process(proc, 2.0)


def server_fd_limit() -> int:
    """The open-file limit the server processes get (ours, raised to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def make_deployment(name: str, workdir: Path) -> Deployment:
    """The deployment called ``name``."""
    workdir.mkdir(parents=True, exist_ok=True)
    if name == "reference":
        return Reference(workdir)
    if name == "torget":
        return Torget(workdir)
    if name.startswith("torget-"):  # e.g. "torget-2": several nodes sharing a redis-server
        return Torget(workdir, nodes=int(name.split("-", 1)[1]))
    raise ValueError(f"unknown server {name!r}")


def _common_args(deployment: Deployment, plan: Plan) -> list[str]:
    args = ["--room", deployment.room, "--path", deployment.path]
    for host, port in deployment.endpoints:
        args += ["--endpoint", f"{host}:{port}"]
    for source in plan.sources:
        args += ["--source", source]
    return args


async def measure(
    deployment: Deployment, asked: int, plan: Plan, workdir: Path, say: Say
) -> list[Cell]:
    """Connect ``asked`` viewers to a started deployment and run every chat rate."""
    max_senders = max(1, math.ceil(max(plan.rates) / plan.sender_rate))
    cap = server_fd_limit() * len(deployment.endpoints) - FD_RESERVE - max_senders
    count = min(asked, cap)
    notes = [f"{count} of {asked} viewers: RLIMIT_NOFILE"] if count < asked else []
    pids = deployment.pids
    base_rss = total_rss(pids)
    per_process = min(plan.viewers_per_process, server_fd_limit() - FD_RESERVE)
    processes = math.ceil(count / per_process)
    common = _common_args(deployment, plan)
    log = workdir / "loadgen.log"
    viewers: list[Worker] = []
    senders: Worker | None = None
    cells: list[Cell] = []
    try:
        offset = 0
        for index in range(processes):
            share = count // processes + (1 if index < count % processes else 0)
            args = ["viewers", *common, "--count", str(share), "--offset", str(offset)]
            args += ["--total", str(count), "--sample", str(min(plan.sample, count))]
            args += ["--concurrency", str(max(1, plan.concurrency // processes))]
            args += ["--lowat", str(plan.lowat)]
            viewers.append(await Worker.spawn(f"viewers#{index}", args, log))
            offset += share
        started = time.monotonic()
        ramp_timeout = 60 + count / 100
        ready = [await w.read(ramp_timeout) for w in viewers]
        LOOPS.update(str(r.get("loop", "?")) for r in ready)
        connected = sum(int(r["connected"]) for r in ready)
        failures: Counter[str] = Counter()
        for r in ready:
            failures.update(r.get("failed", {}))
        say(
            f"{deployment.name:>9} N={count}: {connected} viewers joined in "
            f"{time.monotonic() - started:.1f} s"
            + (f"; failures: {dict(failures.most_common(3))}" if failures else "")
        )
        if failures:
            notes.append(f"{sum(failures.values())} viewers failed to join")
        if not connected:
            raise BenchError(f"no viewer could join: {dict(failures.most_common(2))}")
        await asyncio.sleep(plan.settle)
        idle_rss = total_rss(pids)
        per_viewer = (idle_rss - base_rss) / connected
        args = ["senders", *common, "--count", str(max_senders), "--concurrency", "8"]
        senders = await Worker.spawn("senders", args, log)
        sender_ready = await senders.read(60)
        if not sender_ready.get("connected"):
            raise BenchError(f"no sender could join: {sender_ready.get('failed')}")
        load_pids = [w.proc.pid for w in viewers] + [senders.proc.pid]
        for index, rate in enumerate(plan.rates):
            cell = Cell(deployment.name, asked, connected, rate, idle_per_viewer=per_viewer)
            cell.notes = list(notes) + list(deployment.notes)
            await _run_rate(
                cell, f"r{index:02d}", viewers, senders, pids, load_pids, plan, deployment.parts
            )
            say(cell.line())
            cells.append(cell)
    finally:
        if senders is not None:
            await senders.quit()
        for w in viewers:
            await w.quit()
    return cells


async def _run_rate(
    cell: Cell,
    tag: str,
    viewers: list[Worker],
    senders: Worker,
    pids: list[int],
    load_pids: list[int],
    plan: Plan,
    parts: Sequence[tuple[str, int]] = (),
) -> None:
    sample = min(plan.sample, cell.viewers)
    active = min(sample, max(50, plan.sample_events // cell.rate))
    still_open = 0
    for w in viewers:
        answer = await w.ask({"cmd": "run", "tag": tag, "every": math.ceil(sample / active)})
        still_open += int(answer.get("open", cell.viewers))
    if still_open < cell.viewers:
        cell.notes.append(f"{cell.viewers - still_open} viewers lost in earlier runs")
        cell.viewers = still_open
    connections = max(1, math.ceil(cell.rate / plan.sender_rate))
    command = {"cmd": "send", "tag": tag, "rate": cell.rate, "seconds": plan.window}
    await senders.ask({**command, "senders": connections})
    part0 = {label: total_cpu([pid]) for label, pid in parts}
    cpu0, load0, t0 = total_cpu(pids), total_cpu(load_pids), time.monotonic()
    busy0, soft0, all0 = machine_ticks()
    await asyncio.sleep(plan.window)
    cpu1, load1, t1 = total_cpu(pids), total_cpu(load_pids), time.monotonic()
    busy1, soft1, all1 = machine_ticks()
    cell.machine_busy = 100 * (busy1 - busy0) / max(1, all1 - all0)
    cell.server_rss = total_rss(pids)
    cell.server_cpu = 100 * (cpu1 - cpu0) / (t1 - t0)
    for label, pid in parts:
        share = 100 * (total_cpu([pid]) - part0[label]) / (t1 - t0)
        cell.parts[label] = (share, total_rss([pid]))
    cell.loadgen_cpu = 100 * (load1 - load0) / (t1 - t0)
    cores = (all1 - all0) / CLOCK_TICKS / (t1 - t0)  # ~ the number of cores
    softirq = 100 * (soft1 - soft0) / max(1, all1 - all0) * cores
    busy = cell.machine_busy * cores
    cell.other_cpu = max(0.0, busy - softirq - cell.server_cpu - cell.loadgen_cpu)
    sent = await senders.read(plan.window + 30)
    cell.sent, cell.acked = int(sent["sent"]), int(sent["acked"])
    acks = Counter({int(k): int(v) for k, v in sent.get("ack_ms", {}).items()})
    cell.ack_p99_ms = percentile(acks, 0.99)
    cell.refused = {str(k): int(v) for k, v in sent.get("errors", {}).items()}
    if cell.refused:
        cell.notes.append(f"refused {sum(cell.refused.values())} ({', '.join(cell.refused)})")
    missing = cell.sent - cell.acked - sum(cell.refused.values())
    if missing > 0:
        cell.notes.append(f"{missing} acks not back 3 s after the window (slow ingestion)")
    cell.expected = cell.sent * cell.viewers
    # Drain: until everything arrived, nothing arrived for a while, or drain_max.
    drain_start = last_change = time.monotonic()
    received = -1
    while True:
        stats = [await w.ask({"cmd": "stat"}) for w in viewers]
        now_received = sum(int(s["received"]) for s in stats)
        now = time.monotonic()
        if now_received != received:
            received, last_change = now_received, now
        if received >= cell.expected or now - last_change > plan.quiet:
            break
        if now - drain_start > plan.drain_max:
            break
        await asyncio.sleep(0.25)
    cell.drain_seconds = time.monotonic() - drain_start
    hist: Counter[int] = Counter()
    codes: Counter[str] = Counter()
    frames = samples = 0
    for w in viewers:
        report = await w.ask({"cmd": "report"})
        cell.received += int(report["received"])
        cell.dropped += int(report["closed"])
        codes.update({str(k): int(v) for k, v in report.get("close_codes", {}).items()})
        hist.update({int(k): int(v) for k, v in report["hist"].items()})
        frames += int(report["sample_frames"])
        samples += int(report["samples"])
    cell.p50_ms, cell.p99_ms = percentile(hist, 0.50), percentile(hist, 0.99)
    cell.samples = samples
    if cell.other_cpu > OTHER_LOAD_NOTE:
        cell.notes.append(f"other processes used {cell.other_cpu:.0f} % of a core meanwhile")
    if cell.loadgen_cpu > 90 * len(viewers):
        cell.notes.append("load generator saturated: figures bounded by it")
    if samples:
        cell.frames_per_second = frames / samples / plan.window
    if cell.dropped:
        how = ", ".join(f"{n} x {code}" for code, n in codes.most_common())
        cell.notes.append(f"{cell.dropped} viewers disconnected (close codes: {how})")


async def run_viewers(
    result: ServerResult, asked: int, plan: Plan, workdir: Path, say: Say
) -> None:
    """Every rate of one server with ``asked`` viewers, on a fresh server process.

    Marks ``result.unavailable`` when the server cannot be measured at all.
    """
    name = result.name
    try:
        deployment = make_deployment(name, workdir / f"{name}-{asked}")
    except Unavailable as exc:
        result.unavailable = f"{name}: {exc}"
        say(result.unavailable)
        return
    try:
        await deployment.start()
    except Unavailable as exc:
        await deployment.stop()
        result.unavailable = f"{name}: {exc}"
        say(result.unavailable)
        return
    try:
        result.cells += await measure(deployment, asked, plan, workdir, say)
    except BenchError as exc:
        note = f"N={asked}: {exc}"
        result.notes.append(note)
        say(f"{name}: {note}")
    finally:
        await deployment.stop()
    for note in deployment.notes:
        if note not in result.notes:
            result.notes.append(note)


async def run_async(plan: Plan, say: Say) -> FanoutResult:
    """Run the plan: for each N, each server in turn (so a busy spell on a shared machine
    disturbs both servers' figures alike rather than one server's whole column)."""
    started = time.monotonic()
    nofile = server_fd_limit()
    workdir = Path(tempfile.mkdtemp(prefix="torget-bench-fanout-"))
    results = [ServerResult(name) for name in plan.servers]
    try:
        for asked in plan.viewers:
            for result in results:
                if not result.unavailable:
                    await run_viewers(result, asked, plan, workdir, say)
    finally:
        if any(r.unavailable or r.notes for r in results):
            say(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    loop = ", ".join(sorted(LOOPS)) or "asyncio"
    return FanoutResult(plan, results, time.monotonic() - started, nofile, loop)


def run(plan: Plan, say: Say = print) -> FanoutResult:
    """Run the fan-out benchmark (blocking)."""
    return asyncio.run(run_async(plan, say))


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.fanout.run``: run and print the tables (BENCHMARKS.md is untouched)."""
    from bench.fanout.report import markdown

    parser = argparse.ArgumentParser(prog="python -m bench.fanout.run")
    parser.add_argument("--quick", action="store_true", help="N = 1000, 5000 at 100 msg/s")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--viewers", help="comma-separated N values")
    parser.add_argument("--rates", help="comma-separated msg/s values")
    parser.add_argument("--window", type=float)
    parser.add_argument("--lowat", type=int, help="SO_RCVLOWAT of counting viewers (1: off)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    plan = _override(plan, args)
    print(markdown(run(plan)))
    return 0


def _override(plan: Plan, args: argparse.Namespace) -> Plan:
    from dataclasses import replace

    servers = tuple(s for s in args.servers.split(",") if s)
    plan = replace(plan, servers=servers)
    if args.viewers:
        plan = replace(plan, viewers=tuple(int(v) for v in args.viewers.split(",")))
    if args.rates:
        plan = replace(plan, rates=tuple(int(v) for v in args.rates.split(",")))
    if args.window:
        plan = replace(plan, window=args.window)
    if args.lowat:
        plan = replace(plan, lowat=args.lowat)
    return plan


if __name__ == "__main__":
    sys.exit(main())
