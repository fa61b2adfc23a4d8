"""Run the programme import benchmark (``python -m bench imports``).

One Torget node (``bench.media.server.MediaServer``, its own process and store) imports the
largest programme file it accepts (``[server] max_body_bytes``, 1 MiB shipped) as YAML and as
CSV, then exports it again; meanwhile a prober in this process asks ``/healthz`` every 10 ms.
The figures are the prober's answer times during each request (the node's event loop stays
free while the file is parsed and rendered in a worker thread) and the request's own time.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.fanout.servers import Unavailable
from bench.media.server import MediaServer
from tests.support.loop_probe import latencies_during
from tests.support.programme_docs import largest_programme

Say = Callable[[str], None]
LIMIT = 1_048_576


@dataclass(frozen=True)
class Plan:
    """What to run."""

    formats: tuple[str, ...] = ("yaml", "csv")
    studios: tuple[int, ...] = (1, 10)  # sessions spread over this many studios
    idle_probes: int = 200


QUICK = Plan(studios=(10,), idle_probes=50)


@dataclass(frozen=True)
class Row:
    """One request measured: what it was, how long it took, how /healthz answered meanwhile."""

    what: str
    size: int
    sessions: int
    studios: int
    status: int
    seconds: float
    healthz: list[float]


@dataclass
class ImportResult:
    """Every measured request, and /healthz on the idle node for comparison."""

    plan: Plan
    idle: list[float] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary_ms(values: list[float]) -> str:
    """``p50 / p99 / max`` in milliseconds."""
    if not values:
        return "- / - / -"
    p50 = statistics.median(values)
    return f"{1000 * p50:.1f} / {1000 * quantile(values, 0.99):.1f} / {1000 * max(values):.1f}"


def load_average() -> str:
    """The machine's 1-minute load average (other work competes for the cores)."""
    return Path("/proc/loadavg").read_text().split()[0]


async def _measure(plan: Plan, workdir: Path, say: Say) -> ImportResult:
    result = ImportResult(plan)
    result.notes.append(f"load average (1 min) when the run started: {load_average()}")
    async with aiohttp.ClientSession() as http:
        for studios in plan.studios:
            for fmt in plan.formats:
                # A fresh node for each file: the export holds exactly the file's sessions.
                server = MediaServer(workdir / f"node-{fmt}-{studios}", ladder=())
                await server.start()
                try:
                    if not result.idle:
                        result.idle = await _idle(http, server.base, plan.idle_probes)
                    result.rows += await _import_export(http, server, fmt, studios, say)
                finally:
                    await server.stop()
    return result


async def _healthz(http: aiohttp.ClientSession, base: str) -> None:
    async with http.get(base + "/healthz") as answer:
        await answer.read()


async def _idle(http: aiohttp.ClientSession, base: str, probes: int) -> list[float]:
    seconds = []
    for _ in range(probes):
        began = time.perf_counter()
        await _healthz(http, base)
        seconds.append(time.perf_counter() - began)
        await asyncio.sleep(0.01)
    return seconds


async def _import_export(
    http: aiohttp.ClientSession, server: MediaServer, fmt: str, studios: int, say: Say
) -> list[Row]:
    body, count = largest_programme(LIMIT, studios=studios, csv=fmt == "csv")
    auth = {"Authorization": f"Bearer {server.token}"}
    media = "text/csv" if fmt == "csv" else "application/yaml"
    rows = []
    for what, method, path, data, headers in (
        (f"import {fmt}", "POST", "/api/v1/program/import", body,
         {**auth, "Content-Type": media}),
        (f"export {fmt}", "GET", f"/api/v1/program/export?format={fmt}", None, auth),
    ):  # fmt: skip
        began = time.perf_counter()
        status, seconds = await latencies_during(
            lambda: _healthz(http, server.base),
            _status(http, method, server.base + path, data, headers),
        )
        row = Row(what, len(body), count, studios, status, time.perf_counter() - began, seconds)
        say(f"{row.what}, {studios} studios: {row.status} in {row.seconds:.1f} s, "
            f"/healthz p50/p99/max {summary_ms(row.healthz)} ms")  # fmt: skip
        rows.append(row)
    return rows


async def _status(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    data: bytes | None,
    headers: dict[str, str],
) -> int:
    async with http.request(method, url, data=data, headers=headers) as answer:
        await answer.read()
        return answer.status


def run(plan: Plan, say: Say = print) -> ImportResult:
    """Run the benchmark; a node that cannot start becomes a note."""
    with tempfile.TemporaryDirectory(prefix="torget-bench-imports-") as tmp:
        try:
            return asyncio.run(_measure(plan, Path(tmp), say))
        except Unavailable as exc:
            result = ImportResult(plan)
            result.notes.append(f"not run: {exc}")
            return result
