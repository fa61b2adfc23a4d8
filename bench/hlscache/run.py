"""Orchestrate the HLS cache benchmark (``python -m bench hlscache``).

1. Start the scaled-out shape from the repository's own files (``tests.support.cluster``:
   nginx with deploy/nginx.conf.template, two nodes with deploy/torget.env, PostgreSQL, Redis)
   and publish a looped 360p30 clip (video copied, AAC tone) over RTMP to node 1, which then
   holds the session's media (the origin).
2. A watcher follows the source playlist on the origin itself (blocking reloads, not through
   nginx) and notes when each part is first listed.
3. For each player count: ``processes`` player processes (``bench.hlscache.players``) start
   their players spread over ``ramp`` seconds through nginx; after ``warmup`` more seconds a
   ``window`` is measured: the origin's HLS requests (its ``/metrics``, the watcher's own
   taken off), the CPU of nginx, the nodes and the players (``/proc``), every part fetch.

Load is bounded: every player is a real sequence of requests on one connection, but all run on
this machine, so the players' own CPU caps how many keep up (the ``kept up`` column says how
many of the parts listed in the window each player fetched).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.fanout.procstat import machine_ticks, total_cpu
from bench.fanout.servers import REPO, Unavailable, stop_process
from bench.hlscache import stats
from bench.media import commands
from bench.media.playlist import parse_media
from bench.media.run import ffmpeg_program
from bench.media.server import children
from tests.support import cluster as shape

Say = Callable[[str], None]
HLS = "/hls/"


@dataclass(frozen=True)
class Plan:
    """What to run, and how long."""

    players: tuple[int, ...] = (100, 1000, 5000)
    ramp: float = 5.0  # players start spread over this many seconds
    warmup: float = 3.0  # after the ramp, before the window
    window: float = 15.0  # measured
    processes: int = 2  # player processes
    clip_height: int = 360


QUICK = Plan(players=(100, 1000), ramp=3.0, warmup=2.0, window=8.0)
SMOKE = Plan(players=(20,), ramp=1.0, warmup=1.0, window=3.0, processes=1)


@dataclass
class HlsCacheResult:
    """Every run of the benchmark."""

    plan: Plan
    runs: list[stats.Figures] = field(default_factory=list)
    nginx: str = ""
    part_target: float = 0.0
    part_hold_back: float | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def nginx_version() -> str:
    """``nginx/1.22.1`` of the installed nginx."""
    done = subprocess.run([shape.NGINX, "-v"], capture_output=True, text=True, check=False)
    return done.stderr.strip().removeprefix("nginx version: ")


class Watcher:
    """Follows the origin's source playlist with blocking reloads; notes when each part is
    first listed (``time.monotonic()``) and when it asked."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.listed_at: dict[str, float] = {}
        self.asked: list[float] = []
        self.part_target = 0.0
        self.part_hold_back: float | None = None

    def requests_between(self, start: float, end: float) -> int:
        return sum(1 for at in self.asked if start <= at <= end)

    async def run(self) -> None:
        async with aiohttp.ClientSession() as http:
            query = ""
            while True:
                self.asked.append(time.monotonic())
                async with http.get(self.url + query) as answer:
                    body = await answer.text()
                now = time.monotonic()
                if answer.status != 200:
                    query = ""
                    await asyncio.sleep(0.1)
                    continue
                listed = parse_media(body)
                self.part_target = listed.part_target or 0.0
                self.part_hold_back = listed.part_hold_back
                for segment in listed.segments:
                    for part in segment.parts:
                        self.listed_at.setdefault(part.uri, now)
                msn, part_index = listed.next_part()
                query = f"?_HLS_msn={msn}&_HLS_part={part_index}"


async def _until_playing(url: str, seconds: float = 40.0) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(url) as answer:
                if answer.status == 200 and len(parse_media(await answer.text()).complete) >= 2:
                    return
            await asyncio.sleep(0.2)
    raise Unavailable(f"{url} did not play within {seconds:.0f} s")


@dataclass
class _Snapshot:
    origin: int
    other: int
    cpu: dict[str, float]
    ticks: tuple[int, int, int]
    log_offset: int


async def _snapshot(cluster: shape.Cluster, players: list[int]) -> _Snapshot:
    owner, other = cluster.nodes
    assert cluster.nginx.process is not None
    nginx_pid = cluster.nginx.process.pid
    node_pids = [n.process.pid for n in cluster.nodes if n.process is not None]
    cpu = {
        "nginx": total_cpu([nginx_pid, *children(nginx_pid)]),
        "nodes": total_cpu(node_pids + [c for pid in node_pids for c in children(pid)]),
        "players": total_cpu(players),
    }
    origin, forwarded = await asyncio.gather(owner.requests(HLS), other.requests(HLS))
    offset = cluster.nginx.access_log.stat().st_size
    return _Snapshot(origin, forwarded, cpu, machine_ticks(), offset)


async def _sleep_until(at: float) -> None:
    await asyncio.sleep(max(0.0, at - time.monotonic()))


async def _spawn_players(
    port: int, session_id: str, count: int, tag: str, times: tuple[float, float, float, float]
) -> asyncio.subprocess.Process:
    """One process of ``count`` players (``bench.hlscache.players``), its JSON on stdout."""
    start_at, ramp, measure_from, until = times
    args = [
        sys.executable, "-m", "bench.hlscache.players",
        "--port", str(port), "--session", session_id, "--players", str(count), "--tag", tag,
        "--start-at", str(start_at), "--ramp", str(ramp),
        "--measure-from", str(measure_from), "--until", str(until),
    ]  # fmt: skip
    return await asyncio.create_subprocess_exec(
        *args, cwd=REPO, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE
    )


async def _one_run(
    cluster: shape.Cluster, session_id: str, watcher: Watcher, plan: Plan, players: int
) -> stats.Figures:
    start_at = time.monotonic() + 1.0
    measure_from = start_at + plan.ramp + plan.warmup
    until = measure_from + plan.window
    share = [
        players // plan.processes + (i < players % plan.processes) for i in range(plan.processes)
    ]
    procs = [
        await _spawn_players(
            cluster.nginx.port,
            session_id,
            count,
            f"p{index}n{players}",
            (start_at, plan.ramp, measure_from, until),
        )
        for index, count in enumerate(share)
        if count
    ]
    outputs = [asyncio.create_task(p.communicate()) for p in procs]
    try:
        await _sleep_until(measure_from)
        first = await _snapshot(cluster, [p.pid for p in procs])
        await _sleep_until(until)
        last = await _snapshot(cluster, [p.pid for p in procs])
        results = [json.loads(out[0]) for out in await asyncio.gather(*outputs)]
    finally:
        for proc in procs:
            await stop_process(proc)
    seconds = until - measure_from
    with cluster.nginx.access_log.open("rb") as log:
        log.seek(first.log_offset)
        logged = log.read(last.log_offset - first.log_offset).decode(errors="replace")
    fetches = stats.merge([r["parts"] for r in results])
    busy = last.ticks[0] - first.ticks[0]
    total = last.ticks[2] - first.ticks[2]
    times = stats.fetch_times(fetches)
    lags = stats.behind_origin(fetches, watcher.listed_at)
    return stats.Figures(
        players=players,
        seconds=seconds,
        origin_requests=last.origin - first.origin - watcher.requests_between(measure_from, until),
        forwarded=last.other - first.other,
        player_requests=sum(int(r["requests"]) for r in results),
        part_p50=stats.percentile(times, 50),
        part_p99=stats.percentile(times, 99),
        behind_p50=stats.percentile(lags, 50),
        behind_p99=stats.percentile(lags, 99),
        coverage=stats.coverage(fetches, watcher.listed_at, players, (measure_from, until - 1.0)),
        part_target=watcher.part_target,
        errors=sum(sum(r["errors"].values()) for r in results),
        cpu={k: (last.cpu[k] - first.cpu[k]) / seconds for k in first.cpu},
        machine_busy=busy / total if total else None,
        reached_nodes=stats.nginx_log_kinds(logged),
        player_errors=dict(
            Counter(e for r in results for e, n in r["errors"].items() for _ in range(n))
        ),
    )


async def _run(plan: Plan, say: Say) -> HlsCacheResult:
    if not shape.nginx_installed():
        raise Unavailable("nginx is not installed (make deps-system)")
    result = HlsCacheResult(plan, nginx=nginx_version())
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="torget-bench-hlscache-"))
    ffmpeg = ffmpeg_program()
    clip = workdir / "clip.mp4"
    done = await asyncio.to_thread(
        subprocess.run, commands.clip_args(ffmpeg, clip, plan.clip_height, 6, 800_000), check=False
    )
    if done.returncode != 0:
        raise Unavailable("ffmpeg could not encode the test clip")
    say("hlscache: starting nginx, two nodes, PostgreSQL and Redis")
    cluster = await shape.start_cluster(workdir)
    publisher: asyncio.subprocess.Process | None = None
    watching: asyncio.Task[None] | None = None
    try:
        session_id, key = await cluster.new_session("HLS cache benchmark")
        origin = cluster.nodes[0]
        publisher = await asyncio.create_subprocess_exec(
            *commands.loop_args(ffmpeg, clip, origin.rtmp(key)),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await _until_playing(f"{cluster.url}/hls/{session_id}/source.m3u8")
        watcher = Watcher(f"{origin.url}/hls/{session_id}/source.m3u8")
        watching = asyncio.create_task(watcher.run())
        for players in plan.players:
            say(f"hlscache: {players} players")
            figures = await _one_run(cluster, session_id, watcher, plan, players)
            result.runs.append(figures)
            say(
                f"  origin {figures.origin_per_second:.1f} req/s, part p99 "
                f"{figures.part_p99 or 0:.3f} s, behind the origin p99 "
                f"{figures.behind_p99 or 0:.2f} s, kept up {100 * figures.coverage:.0f} %"
            )
            await asyncio.sleep(2.0)
        result.part_target = watcher.part_target
        result.part_hold_back = watcher.part_hold_back
    finally:
        if watching is not None:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                await watching
        if publisher is not None:
            await stop_process(publisher)
        await cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    result.seconds = time.monotonic() - started
    return result


def run(plan: Plan, say: Say = print) -> HlsCacheResult:
    """Run the benchmark; an Unavailable part becomes a note in the result."""
    try:
        return asyncio.run(_run(plan, say))
    except Unavailable as exc:
        return HlsCacheResult(plan, notes=[f"not measured: {exc}"])
