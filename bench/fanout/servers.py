"""The servers the fan-out benchmark measures: Torget (one node or several) and the reference.

A ``Deployment`` starts one or more server processes on free loopback ports, prepares a room,
and names the endpoints viewers connect to and the pids whose CPU and memory are measured
(``parts``: each process with a label, e.g. ``node 1``, ``node 2``, ``redis``).
``Unavailable`` carries a one-line reason shown in the report when a server cannot be measured.

``Torget(nodes=2)`` is the "two nodes with Redis" set-up: it starts its own redis-server on a
free loopback port (append-only, fsync on every write, as docs/operations.md asks of
production), then two nodes with ``realtime.engine = redis`` sharing one SQLite store file.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import contextlib
import os
import re
import shutil
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO / "bench" / "reference"
HOST = "127.0.0.1"
TOKEN = re.compile(r"\btgt_[A-Za-z0-9_\-]+")

# Torget's per-address and per-viewer frame limits, raised so the senders are not throttled.
RATE_LIMIT_ENV = {
    "TORGET_REALTIME_RATE_LIMIT_PER_SECOND": "1000000",
    "TORGET_REALTIME_RATE_LIMIT_BURST": "1000000",
}


class Unavailable(Exception):
    """This server cannot be measured here; the message says why (one line)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


async def upgrade_status(host: str, port: int, path: str) -> str:
    """The status line a websocket upgrade request on ``path`` gets (like ``curl -i``)."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: Upgrade\r\n"
        f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n"
    )
    async with asyncio.timeout(5):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(request.encode())
            line = await reader.readline()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    return line.decode(errors="replace").strip()


async def wait_for_port(
    host: str, port: int, proc: asyncio.subprocess.Process, seconds: float
) -> None:
    """Wait until ``port`` accepts connections; raise Unavailable if ``proc`` exits first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if proc.returncode is not None:
            raise Unavailable(f"exited with status {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return
    raise Unavailable(f"not listening on {host}:{port} after {seconds:.0f} s")


async def stop_process(proc: asyncio.subprocess.Process, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; always reaps the process."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


class Deployment(abc.ABC):
    """One server set-up under test."""

    #: short name used in tables ("torget", "reference")
    name: str
    #: websocket path on every endpoint
    path = "/ws"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[asyncio.subprocess.Process] = []
        self.endpoints: list[tuple[str, int]] = []
        self.room = ""
        self.notes: list[str] = []

    @property
    def pids(self) -> list[int]:
        """The server processes whose CPU and RSS are measured (summed)."""
        return [p.pid for p in self.procs]

    @property
    def parts(self) -> list[tuple[str, int]]:
        """Each measured process with its label (one process: the server's name)."""
        if len(self.procs) == 1:
            return [(self.name, self.procs[0].pid)]
        return [(f"{self.name} #{i + 1}", p.pid) for i, p in enumerate(self.procs)]

    @abc.abstractmethod
    async def start(self) -> None:
        """Start the server(s), prepare ``room``; raise Unavailable with the reason."""

    async def stop(self) -> None:
        """Stop every process started."""
        for proc in self.procs:
            await stop_process(proc)

    async def check_ws(self) -> None:
        """Raise Unavailable unless every endpoint upgrades ``path`` to a websocket."""
        for host, port in self.endpoints:
            try:
                status = await upgrade_status(host, port, self.path)
            except (OSError, TimeoutError) as exc:
                raise Unavailable(
                    f"{self.path} not available ({exc or type(exc).__name__})"
                ) from None
            if " 101" not in status:
                raise Unavailable(f"{self.path} not available ({status or 'no answer'})")


def ensure_reference_installed() -> None:
    """Install the reference server's ``ws`` into bench/reference/node_modules when missing."""
    if (REFERENCE_DIR / "node_modules" / "ws" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise Unavailable("node and npm are needed for the reference server")
    import subprocess

    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    done = subprocess.run(command, cwd=REFERENCE_DIR, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Unavailable(f"npm ci failed: {done.stderr.strip()[-300:]}")


class Reference(Deployment):
    """The Node.js ``ws`` broadcast server in bench/reference."""

    name = "reference"

    async def start(self) -> None:
        ensure_reference_installed()
        node = shutil.which("node")
        assert node is not None
        port = free_port()
        log = self.workdir / "reference.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                node, str(REFERENCE_DIR / "server.js"), str(port),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
            )  # fmt: skip
        self.procs.append(proc)
        try:
            await wait_for_port(HOST, port, proc, 15)
        except Unavailable as exc:
            raise Unavailable(f"reference server {exc}: {_tail(log)}") from None
        self.endpoints = [(HOST, port)]
        self.room = "bench"
        await self.check_ws()


def redis_args(binary: str, port: int, directory: Path) -> list[str]:
    """The benchmark's redis-server command line: loopback only, data and log in ``directory``,
    append-only with an fsync per write (production's setting), no RDB snapshots."""
    return [
        binary,
        "--port", str(port),
        "--bind", HOST,
        "--protected-mode", "yes",
        "--dir", str(directory),
        "--appendonly", "yes",
        "--appendfsync", "always",
        "--save", "",
        "--daemonize", "no",
        "--logfile", str(directory / "redis.log"),
    ]  # fmt: skip


async def start_redis(directory: Path) -> tuple[asyncio.subprocess.Process, str]:
    """Start redis-server on a free loopback port; return the process and its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("redis-server is not installed (make deps-system)")
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *redis_args(binary, port, directory),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await wait_for_port(HOST, port, proc, 15)
    except Unavailable as exc:
        await stop_process(proc)
        raise Unavailable(f"redis-server {exc}: {_tail(directory / 'redis.log')}") from None
    return proc, f"redis://{HOST}:{port}/0"


class Torget(Deployment):
    """Torget nodes (``python -m torget serve``) sharing one store.

    ``nodes > 1``: the "two nodes with Redis" benchmark. Each node gets
    ``TORGET_REALTIME_ENGINE=redis`` and the Redis URL (``redis_url``, or a redis-server this
    deployment starts and stops itself); the nodes share one SQLite file as their store.
    Viewers are spread over the endpoints and senders post on the first node, so every message
    crosses Redis. CPU and RSS are measured per node and for the Redis this deployment started.
    """

    def __init__(self, workdir: Path, nodes: int = 1, redis_url: str = "") -> None:
        super().__init__(workdir)
        self.nodes = nodes
        self.redis_url = redis_url
        self.redis: asyncio.subprocess.Process | None = None
        self.name = "torget" if nodes == 1 else f"torget-{nodes}"

    @property
    def pids(self) -> list[int]:
        return [pid for _, pid in self.parts]

    @property
    def parts(self) -> list[tuple[str, int]]:
        if self.nodes == 1:
            return super().parts
        named = [(f"node {i + 1}", p.pid) for i, p in enumerate(self.procs)]
        if self.redis is not None:
            named.append(("redis", self.redis.pid))
        return named

    async def stop(self) -> None:
        await super().stop()
        if self.redis is not None:
            await stop_process(self.redis)

    def _env(self, port: int, rate_limits: bool) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "TORGET_STORE_URL": f"sqlite+aiosqlite:///{self.workdir / 't.db'}",
                "TORGET_SERVER_HOST": HOST,
                "TORGET_SERVER_PORT": str(port),
                "TORGET_DEMO_LOAD_ON_FIRST_START": "false",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if rate_limits:
            env.update(RATE_LIMIT_ENV)
        if self.nodes > 1:
            env["TORGET_REALTIME_ENGINE"] = "redis"
            env["TORGET_REALTIME_REDIS_URL"] = self.redis_url
        return env

    async def _start_node(self, index: int, rate_limits: bool) -> tuple[int, Path]:
        port = free_port()
        log = self.workdir / f"torget-{index}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "torget", "serve",
                cwd=REPO, env=self._env(port, rate_limits),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
            )  # fmt: skip
        self.procs.append(proc)
        try:
            await wait_for_port(HOST, port, proc, 30)
        except Unavailable as exc:
            await stop_process(proc)
            self.procs.remove(proc)
            raise Unavailable(f"{exc}: {_tail(log)}") from None
        return port, log

    async def start(self) -> None:
        if self.nodes > 1 and not self.redis_url:
            self.redis, self.redis_url = await start_redis(self.workdir / "redis")
        try:
            port, log = await self._start_node(0, rate_limits=True)
        except Unavailable as exc:
            if "rate_limit" not in str(exc):
                raise Unavailable(f"torget did not start: {exc}") from None
            # This Torget does not know the rate-limit settings yet: run with its defaults.
            self.notes.append("realtime rate-limit settings unknown to this Torget: its defaults")
            port, log = await self._start_node(0, rate_limits=False)
        self.endpoints = [(HOST, port)]
        for index in range(1, self.nodes):
            other, _ = await self._start_node(index, rate_limits=not self.notes)
            self.endpoints.append((HOST, other))
        token = await self._admin_token(log)
        self.room = await self._create_session(port, token)
        await self.check_ws()

    async def _admin_token(self, log: Path) -> str:
        for _ in range(50):
            found = TOKEN.search(await asyncio.to_thread(log.read_text, errors="replace"))
            if found:
                return found.group(0)
            await asyncio.sleep(0.1)
        raise Unavailable("no admin token (tgt_...) in torget's first-start output")

    async def _create_session(self, port: int, token: str) -> str:
        base = f"http://{HOST}:{port}/api/v1"
        headers = {"Authorization": f"Bearer {token}"}
        now = datetime.now(UTC).replace(microsecond=0)
        async with aiohttp.ClientSession(headers=headers) as http:
            studio = await _post(http, f"{base}/studios", {"name": "Benchmark studio"})
            session = await _post(
                http,
                f"{base}/sessions",
                {
                    "studio_id": studio["id"],
                    "title": "Fan-out benchmark",
                    "starts_at": (now - timedelta(minutes=1)).isoformat(),
                    "ends_at": (now + timedelta(hours=3)).isoformat(),
                    "auto_start": False,
                },
            )
            session_id: str = session["id"]
            # Chat may need the session to be live: go live (an answer >= 400 is only noted).
            async with http.post(f"{base}/sessions/{session_id}/live") as answer:
                if answer.status >= 400:
                    self.notes.append(f"go live answered {answer.status}")
        return session_id


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(url, json=body) as answer:
        if answer.status >= 300:
            raise Unavailable(f"POST {url} answered {answer.status}: {(await answer.text())[:200]}")
        data: dict[str, Any] = await answer.json()
        return data
