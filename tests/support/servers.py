"""Start real PostgreSQL and Redis servers on free loopback ports, for tests.

Each server lives in its own directory, listens on 127.0.0.1 only and is stopped by its
fixture's finalizer; anything still running when the interpreter exits (or gets SIGTERM) is
stopped by an ``atexit`` hook, so a failing or interrupted test run leaves no server behind.
A PostgreSQL cluster left by a run that was killed outright (SIGKILL) is reaped by the next.

PostgreSQL refuses to run as root. Each cluster lives in a fresh 0755 directory
``/tmp/torget-pg-*`` (pytest's own temporary directories are private to their user); when the
tests run as root it is owned by the ``postgres`` user (or ``nobody``) and the server programs
run through ``runuser``. The tests connect over TCP with trust auth.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Protocol

from tests.support.waiting import WaitTimedOut, until_sync

POSTGRES_GLOB = "/usr/lib/postgresql/*/bin"
POSTGRES_BASE_PREFIX = "torget-pg-"
START_TIMEOUT = 30.0
DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class _Stoppable(Protocol):
    def stop(self) -> None: ...


_running: list[_Stoppable] = []


@atexit.register
def _stop_all() -> None:
    """Stop every server still registered (the last line of defence after fixtures)."""
    while _running:
        server = _running.pop()
        with contextlib.suppress(Exception):
            server.stop()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Stop the servers, then die of SIGTERM as we would have (atexit does not run on it)."""
    _stop_all()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def register(server: _Stoppable) -> None:
    """Track ``server`` for the atexit hook; on first use also stop servers on SIGTERM."""
    if server not in _running:
        _running.append(server)
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- PostgreSQL ----------------------------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """The ``bin`` directory of the newest installed PostgreSQL server, or None."""
    found = [
        p
        for p in Path("/").glob(POSTGRES_GLOB.lstrip("/"))
        if (p / "postgres").is_file() and (p / "initdb").is_file() and (p / "pg_ctl").is_file()
    ]

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", p.parent.name)) or (0,)

    return max(found, key=version, default=None)


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged account to run PostgreSQL as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root, but there is no 'postgres' or 'nobody' user to run as")


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster with a superuser ``torget`` and trust auth on loopback."""

    port: int
    base_dir: Path
    bin_dir: Path
    run_as: pwd.struct_passwd | None
    keep_log_in: Path | None = None
    options: str = ""
    stopped: bool = field(default=False, init=False)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the ``torget`` database."""
        return self.url_for("torget")

    def url_for(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+asyncpg://torget@127.0.0.1:{self.port}/{database}"

    def _server_cmd(self, *args: str) -> list[str]:
        if self.run_as is None:
            return list(args)
        return ["runuser", "-u", self.run_as.pw_name, "--", *args]

    def _run_server_tool(self, *args: str, timeout: float = START_TIMEOUT) -> None:
        result = subprocess.run(
            self._server_cmd(*args),
            cwd=self.base_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()[-20:]
        except OSError:
            return ""
        return "\n--- postgres.log ---\n" + "\n".join(lines)

    def _client(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin_dir / tool), "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
        )

    def is_ready(self) -> bool:
        """Whether the server accepts connections (``pg_isready``)."""
        return self._client("pg_isready", "-U", "torget", "-d", "postgres").returncode == 0

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a random ``t_<hex>`` name by default); return its URL."""
        name = name or f"t_{secrets.token_hex(6)}"
        if not DB_NAME.match(name):
            raise ValueError(f"not a plain database name: {name!r}")
        result = self._client("createdb", "-U", "torget", name)
        if result.returncode != 0:
            raise RuntimeError(f"createdb {name} failed: {result.stderr.strip()}")
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting anyone still on it; errors are ignored."""
        if not self.stopped:
            self._client("dropdb", "-U", "torget", "--if-exists", "--force", name)

    def shut_down(self, mode: str = "fast") -> None:
        """Stop the server (``pg_ctl stop -m mode``) and keep its files, to start it again."""
        self._run_server_tool(
            str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", mode, "-w"
        )

    def start_again(self) -> None:
        """Start a server stopped by ``shut_down`` on the same port and data; wait for it."""
        self._run_server_tool(
            str(self.bin_dir / "pg_ctl"),
            "start",
            "-D", str(self.data_dir),
            "-l", str(self.log_file),
            "-o", self.options,
            "-w",
            "-t", str(int(START_TIMEOUT)),
            timeout=START_TIMEOUT + 5,
        )  # fmt: skip
        until_sync(self.is_ready, timeout=START_TIMEOUT, what="PostgreSQL to accept connections")

    def stop(self) -> None:
        """Stop the server at once (``pg_ctl stop -m immediate``) and remove its files.

        The server log is copied to ``keep_log_in`` first (the test's own directory).
        """
        if self.stopped:
            return
        self.stopped = True
        with contextlib.suppress(ValueError):
            _running.remove(self)
        try:
            self._run_server_tool(
                str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate"
            )
        except (RuntimeError, subprocess.TimeoutExpired):
            _kill_postmaster(self.data_dir)
        if self.keep_log_in is not None:
            with contextlib.suppress(OSError):
                shutil.copyfile(self.log_file, self.keep_log_in / "postgres.log")
        shutil.rmtree(self.base_dir, ignore_errors=True)


def _kill_postmaster(data_dir: Path) -> None:
    """SIGQUIT (immediate shutdown) the postmaster of ``data_dir`` and wait a little for it."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGQUIT)
    except (OSError, ValueError, IndexError):
        return
    with contextlib.suppress(WaitTimedOut):
        until_sync(lambda: not _alive(pid), timeout=5, what="the postmaster to exit")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clusters_root() -> Path:
    """The shared temporary directory, reachable by the server's user even if TMPDIR is not."""
    tmp = Path("/tmp")  # noqa: S108
    return tmp if tmp.is_dir() else Path(tempfile.gettempdir())


def _reap_stale_clusters() -> None:
    """Stop and remove clusters whose test process is gone (it was killed outright)."""
    for base_dir in clusters_root().glob(POSTGRES_BASE_PREFIX + "*"):
        try:
            owner = int((base_dir / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if owner != os.getpid() and not _alive(owner):
            _kill_postmaster(base_dir / "data")
            shutil.rmtree(base_dir, ignore_errors=True)


def start_postgres(tmp: Path) -> PostgresServer:
    """Create a cluster, start it on a free port and create the database ``torget``.

    The cluster lives in a new directory ``/tmp/torget-pg-*`` (removed on stop); its log is
    copied to ``tmp`` when it stops.
    """
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL server under /usr/lib/postgresql (make deps-system)")
    run_as = _server_user()
    _reap_stale_clusters()
    base_dir = Path(tempfile.mkdtemp(prefix=POSTGRES_BASE_PREFIX, dir=clusters_root()))
    base_dir.chmod(0o755)
    (base_dir / "owner.pid").write_text(str(os.getpid()))
    if run_as is not None:
        os.chown(base_dir, run_as.pw_uid, run_as.pw_gid)
    server = PostgresServer(
        port=free_port(), base_dir=base_dir, bin_dir=bin_dir, run_as=run_as, keep_log_in=tmp
    )
    register(server)
    try:
        server._run_server_tool(
            str(bin_dir / "initdb"),
            "-D", str(server.data_dir),
            "-A", "trust",
            "-U", "torget",
            "-E", "UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
        )  # fmt: skip
        server.options = (
            f"-p {server.port} -k {base_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        server.start_again()
        server.create_database("torget")
    except BaseException:
        server.stop()
        raise
    return server


# --- Redis ---------------------------------------------------------------------------------


def redis_command(port: int, *args: str, timeout: float = 2.0) -> bytes:
    """Send one command to 127.0.0.1:``port`` in RESP; return the raw reply.

    Simple replies (``+OK``, ``-ERR``, ``:1``) come back as their line, bulk strings whole
    (``$2\r\nv1\r\n``); arrays are not read past their first line.
    """
    request = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = arg.encode()
        request += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        reply = b""
        expected: int | None = None
        while expected is None or len(reply) < expected:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
            if expected is None and b"\r\n" in reply:
                head, _, _ = reply.partition(b"\r\n")
                size = int(head[1:]) if head.startswith(b"$") else -1
                expected = len(head) + 2 + (size + 2 if size >= 0 else 0)
    return reply


def redis_installed() -> bool:
    """Whether ``redis-server`` is on PATH."""
    return shutil.which("redis-server") is not None


def redis_ping(port: int) -> bool:
    """Whether a Redis server on ``port`` answers PING with +PONG (not -LOADING, not silence)."""
    try:
        return redis_command(port, "PING", timeout=0.5) == b"+PONG\r\n"
    except OSError:
        return False


#: Persistence of the tests' redis-server unless told otherwise: append-only, no snapshots.
REDIS_PERSISTENCE = ("--appendonly", "yes", "--save", "")


@dataclass
class RedisServer:
    """A redis-server child process with append-only persistence in its own directory.

    ``flags`` are its persistence flags (the cluster tests pass docker-compose.yml's).
    """

    port: int
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None
    flags: tuple[str, ...] = REDIS_PERSISTENCE

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "redis.log"

    def start(self) -> None:
        """Start on this server's port and directory and wait until it answers PING."""
        if self.process is not None and self.process.poll() is None:
            return
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (make deps-system)")
        args = [
            binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            *self.flags,
            "--daemonize", "no",
            "--logfile", str(self.log_file),
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        register(self)
        try:
            until_sync(self._ready, timeout=START_TIMEOUT, what="redis-server to answer PING")
        except BaseException:
            self.kill()
            raise

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            raise RuntimeError(f"redis-server exited with {code}: see {self.log_file}")
        return redis_ping(self.port)

    def stop(self) -> None:
        """Shut down cleanly (SIGTERM: Redis flushes its append-only file) and wait."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill at once (SIGKILL), like a crash: writes of the last second may be lost."""
        self._end(signal.SIGKILL)

    def restart(self) -> None:
        """Stop if running, then start again on the same port with the same data."""
        self.stop()
        self.start()

    def _end(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ValueError):
            _running.remove(self)
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_redis(tmp: Path) -> RedisServer:
    """Start redis-server on a free loopback port with its data in a new directory under ``tmp``."""
    data_dir = Path(tempfile.mkdtemp(prefix="redis-", dir=tmp))
    server = RedisServer(port=free_port(), data_dir=data_dir)
    server.start()
    return server
