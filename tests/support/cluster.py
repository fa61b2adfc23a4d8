"""The shipped scaled-out shape as local processes: PostgreSQL, Redis, Torget nodes, nginx.

``start_cluster`` starts what docker-compose.yml describes, from the repository's own files
(``tests.support.deploy_files``), on free loopback ports: PostgreSQL (``servers``), redis-server
with the compose file's flags, ``torget serve`` nodes with the settings of deploy/torget.env
(only addresses, ports and directories replaced), and nginx (Debian's package) with
deploy/nginx.conf.template rendered for those ports. Nodes run under a supervisor that does
what compose's ``restart: unless-stopped`` does: a node that dies (``kill``) is started again
after ``restart_delay``; one stopped on purpose (``stop``) stays down.

``start_nodes`` starts nodes at the same instant (``together=True``, what ``docker compose up``
does and what the cluster does: the store's migrations run under a lock) or one after another.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from tests.support import deploy_files, servers
from tests.support.waiting import WaitTimedOut, until

NGINX = "/usr/sbin/nginx"
NGINX_DIR_PREFIX = "torget-nginx-"
START_TIMEOUT = 40.0


def nginx_installed() -> bool:
    """Whether Debian's nginx is installed (``make deps-system``)."""
    return Path(NGINX).is_file()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def _http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
            http.get(url) as answer,
        ):
            return answer.status == 200
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


@dataclass(eq=False)
class _AtExit:
    """Signals a child still running when the test process exits (``servers.register``)."""

    process: asyncio.subprocess.Process
    signal: signal.Signals

    def stop(self) -> None:
        if self.process.returncode is None:  # not reaped yet: the pid is still this child's
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, self.signal)


def count_requests(metrics: str, route_prefix: str) -> int:
    """The requests a node answered on routes starting with ``route_prefix``, from its
    Prometheus text (``torget_http_requests_total``)."""
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("torget_http_requests_total{") and f'route="{route_prefix}' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


async def _terminate(process: asyncio.subprocess.Process | None, grace: float) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; reaps the process."""
    if process is None or process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        process.kill()
        await process.wait()


class NodeFailed(Exception):
    """A node exited or did not become healthy; the message carries its log's tail."""


@dataclass
class Node:
    """One ``torget serve`` process with its own directory, ports and log."""

    index: int
    directory: Path
    env: dict[str, str]
    http_port: int
    rtmp_port: int
    restart_delay: float = 1.0
    process: asyncio.subprocess.Process | None = None
    kept_down: bool = False
    starts: int = 0
    _supervisor: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"torget-{self.index}"

    @property
    def url(self) -> str:
        """Where the node answers HTTP (its ``server.node_url``)."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def address(self) -> str:
        """host:port, as nginx's upstream names it."""
        return f"127.0.0.1:{self.http_port}"

    @property
    def log_file(self) -> Path:
        return self.directory / "torget.log"

    @property
    def media_dir(self) -> Path:
        return Path(self.env["TORGET_MEDIA_DATA_DIR"])

    def rtmp(self, key: str) -> str:
        """The node's RTMP publish URL for ``key``."""
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{key}"

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    async def hub_id(self) -> str:
        """The node id this process names in a websocket ``welcome`` (new at every start)."""
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{self.url}/ws") as ws,
        ):
            welcome = await ws.receive_json(timeout=10)
            return str(welcome["node"])

    async def requests(self, route_prefix: str) -> int:
        """How many requests this node has answered on routes under ``route_prefix``."""
        async with aiohttp.ClientSession() as http, http.get(f"{self.url}/metrics") as answer:
            return count_requests(await answer.text(), route_prefix)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def spawn(self) -> None:
        """Start the process (not waiting for it to be healthy)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TORGET_")}
        env.update(self.env)
        env["PYTHONUNBUFFERED"] = "1"
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(f"--- start {self.starts + 1} ---\n".encode())
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "torget", "serve",
                cwd=self.directory, env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
        self.starts += 1
        servers.register(_AtExit(self.process, signal.SIGKILL))

    async def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until ``/healthz`` answers 200; raise NodeFailed if the process exits first."""

        async def healthy() -> bool:
            if self.process is not None and self.process.returncode is not None:
                raise NodeFailed(
                    f"{self.name} exited with {self.process.returncode}:\n{_tail(self.log_file)}"
                )
            return await _http_ok(f"{self.url}/healthz")

        try:
            await until(healthy, timeout=timeout, what=f"{self.name} to be healthy", interval=0.1)
        except WaitTimedOut:
            raise NodeFailed(f"{self.name} not healthy after {timeout:.0f} s:\n"
                             f"{_tail(self.log_file)}") from None  # fmt: skip

    def supervise(self) -> None:
        """Restart the node whenever it dies, until ``stop`` (compose's restart policy)."""
        if self._supervisor is None or self._supervisor.done():
            self._supervisor = asyncio.create_task(self._restart_when_dead())

    async def _restart_when_dead(self) -> None:
        while not self.kept_down:
            assert self.process is not None
            await self.process.wait()
            if self.kept_down:
                return
            await asyncio.sleep(self.restart_delay)
            if not self.kept_down:
                await self.spawn()

    def kill(self) -> None:
        """kill -9: the node dies at once, with its clients and its ffmpeg children's input."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        """Stop the node for good (SIGTERM, SIGKILL after 15 s); the supervisor leaves it."""
        self.kept_down = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await _terminate(self.process, 15)


@dataclass
class Nginx:
    """nginx (Debian's binary) running deploy/nginx.conf.template rendered for local ports."""

    port: int
    directory: Path
    keep_logs_in: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.directory / "access.log"

    @property
    def error_log(self) -> Path:
        return self.directory / "error.log"

    @classmethod
    def configure(cls, upstreams: list[str], keep_logs_in: Path) -> Nginx:
        """Render the template into a new 0755 directory under /tmp (nginx's workers run as
        an unprivileged user when we are root, and must reach the cache there)."""
        directory = Path(tempfile.mkdtemp(prefix=NGINX_DIR_PREFIX, dir=servers.clusters_root()))
        directory.chmod(0o755)
        (directory / "cache").mkdir(mode=0o755)  # as the image's /var/cache/nginx volume
        port = servers.free_port()
        template = deploy_files.nginx_template()
        values = deploy_files.nginx_values(
            template, port=port, nodes=upstreams, cache_dir=directory / "cache"
        )
        (directory / "nginx.conf").write_text(
            deploy_files.render_template(template, values), encoding="utf-8"
        )
        return cls(port=port, directory=directory, keep_logs_in=keep_logs_in)

    def args(self) -> list[str]:
        """nginx in the foreground with its pid file in its directory."""
        return [
            NGINX, "-p", str(self.directory), "-c", str(self.directory / "nginx.conf"),
            "-g", f"daemon off; pid {self.directory / 'nginx.pid'};",
        ]  # fmt: skip

    async def start(self) -> None:
        """Start nginx and wait until it accepts connections."""
        with self.access_log.open("ab") as out, self.error_log.open("ab") as err:
            self.process = await asyncio.create_subprocess_exec(
                *self.args(), stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=err
            )
        servers.register(_AtExit(self.process, signal.SIGTERM))  # its workers go with it
        process = self.process

        async def listening() -> bool:
            if process.returncode is not None:
                raise RuntimeError(f"nginx exited with {process.returncode}:\n"
                                   f"{_tail(self.error_log)}")  # fmt: skip
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                return False
            writer.close()
            return True

        await until(
            listening, timeout=10, what=lambda: f"nginx to listen:\n{_tail(self.error_log)}"
        )

    async def stop(self) -> None:
        """Stop nginx (SIGTERM), keep its logs with the test's files, remove its directory."""
        await _terminate(self.process, 10)
        for log in (self.access_log, self.error_log):
            with contextlib.suppress(OSError):
                shutil.copyfile(log, self.keep_logs_in / f"nginx-{log.name}")
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class Cluster:
    """The running shape: PostgreSQL, Redis, the nodes, nginx, and the first admin token."""

    directory: Path
    postgres: servers.PostgresServer
    redis: servers.RedisServer
    store_url: str
    nodes: list[Node]
    nginx: Nginx
    admin_token: str = ""

    @property
    def url(self) -> str:
        """The public entry: nginx."""
        return self.nginx.url

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    async def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        """Every node answers /healthz with 200 (restarted by the supervisor if it died)."""
        deadline = time.monotonic() + timeout
        for node in self.nodes:

            def restarted(node: Node = node) -> bool:
                return node.running

            await until(
                restarted, timeout=max(0.0, deadline - time.monotonic()),
                what=f"{node.name} to be restarted", interval=0.1,
            )  # fmt: skip
            await node.wait_healthy(max(1.0, deadline - time.monotonic()))

    async def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the API through nginx as the admin; raise unless the answer is 2xx."""
        async with (
            aiohttp.ClientSession(headers=self.admin) as http,
            http.request(method, self.url + path, json=body) as answer,
        ):
            text = await answer.text()
            if answer.status >= 300:
                raise RuntimeError(f"{method} {path} answered {answer.status}: {text[:300]}")
            return await answer.json() if text else None

    async def new_session(self, title: str) -> tuple[str, str]:
        """A session running now (from a minute ago for two hours) in a studio of its own;
        its id and stream key."""
        studio = await self.api("POST", "/api/v1/studios", {"name": f"Studio {title}"})
        now = datetime.now(UTC).replace(microsecond=0)
        session = await self.api(
            "POST",
            "/api/v1/sessions",
            {
                "studio_id": studio["id"],
                "title": title,
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
            },
        )
        return str(session["id"]), str(session["stream_key"])

    async def stop(self) -> None:
        """Stop everything; the servers' logs stay in the cluster's directory."""
        await self.nginx.stop()
        for node in self.nodes:
            await node.stop()
        await asyncio.to_thread(self.redis.stop)
        await asyncio.to_thread(self.postgres.stop)


def plan_nodes(
    directory: Path, count: int, *, redis_url: str, store_url: str, restart_delay: float = 1.0
) -> list[Node]:
    """``count`` nodes with the shared settings of deploy/torget.env and their own ports,
    directories and ``node_url`` (not started)."""
    shared = deploy_files.node_settings_file()
    nodes: list[Node] = []
    for index in range(1, count + 1):
        http_port, rtmp_port = servers.free_port(), servers.free_port()
        node_dir = directory / f"torget-{index}"
        env = deploy_files.node_env(
            shared,
            http_port=http_port,
            rtmp_port=rtmp_port,
            redis_url=redis_url,
            store_url=store_url,
            media_dir=node_dir / "media",
            public_url="",  # set by start_cluster once nginx's port is known
        )
        nodes.append(Node(index, node_dir, env, http_port, rtmp_port, restart_delay))
    return nodes


async def start_nodes(nodes: list[Node], *, together: bool) -> None:
    """Start ``nodes`` at the same instant (``together``) or each once the one before is
    healthy; raise NodeFailed naming the first that did not come up."""
    if together:
        await asyncio.gather(*(node.spawn() for node in nodes))
        results = await asyncio.gather(
            *(node.wait_healthy() for node in nodes), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return
    for node in nodes:
        await node.spawn()
        await node.wait_healthy()


async def start_cluster(
    directory: Path, *, nodes: int = 2, together: bool = True, restart_delay: float = 1.0
) -> Cluster:
    """Start the compose file's shape on loopback ports under ``directory``; nodes are
    supervised (restarted when they die). Stop it with ``Cluster.stop``."""
    postgres = await asyncio.to_thread(servers.start_postgres, directory)
    redis = servers.RedisServer(
        port=servers.free_port(),
        data_dir=directory / "redis",
        flags=deploy_files.redis_flags(deploy_files.load_compose()),
    )
    redis.data_dir.mkdir(parents=True, exist_ok=True)
    planned: list[Node] = []
    nginx: Nginx | None = None
    try:
        await asyncio.to_thread(redis.start)
        planned = plan_nodes(
            directory, nodes, redis_url=redis.url, store_url=postgres.url,
            restart_delay=restart_delay,
        )  # fmt: skip
        nginx = Nginx.configure([node.address for node in planned], keep_logs_in=directory)
        for node in planned:
            node.env["TORGET_SERVER_PUBLIC_URL"] = nginx.url
        await start_nodes(planned, together=together)
        for node in planned:
            node.supervise()
        await nginx.start()
    except BaseException:
        if nginx is not None:
            await nginx.stop()
        for node in planned:
            await node.stop()
        await asyncio.to_thread(redis.stop)
        await asyncio.to_thread(postgres.stop)
        raise
    cluster = Cluster(directory, postgres, redis, postgres.url, planned, nginx)
    tokens = (deploy_files.first_admin_token(node.log_text()) for node in planned)
    cluster.admin_token = next((token for token in tokens if token), "")
    return cluster
