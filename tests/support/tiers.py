"""The quick tier starts no server: a guard that fails a test not marked ``slow`` that does.

``make test-fast`` runs ``-m "not slow"``: it must start no redis-server, PostgreSQL, ffmpeg or
ffprobe, nginx or browser (the ``slow`` mark's promise, in pyproject.toml). ``tests/conftest.py``
installs ``watch`` as an audit hook (Python's ``subprocess.Popen`` event, which asyncio's
subprocesses raise too) and tells this module which test is running (``running``); a test not
marked ``slow`` that starts one of those programs gets an error naming the program, and its
report is turned into a failure even when the error was swallowed (``take_violations``). Only
starting counts: stopping a server (``pg_ctl stop``) at the end of a run, or trying a program
that is not installed (the "cannot start" tests), is fine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

#: Programs a test may start only when marked slow, by the name they run under.
SERVER_PROGRAMS = {
    "redis-server": "redis-server",
    "postgres": "PostgreSQL",
    "initdb": "PostgreSQL (initdb)",
    "nginx": "nginx",
    "chromium": "Chromium",
    "ffprobe": "ffprobe",
}


class ServerInQuickTier(RuntimeError):
    """A test not marked slow started a server, ffmpeg or a browser."""


def server_started(args: Sequence[str]) -> str | None:
    """What an argument list starts, if it is one of the programs of the slow tier."""
    if not args:
        return None
    command = list(args)
    if os.path.basename(command[0]) in ("runuser", "sudo") and "--" in command:
        command = command[command.index("--") + 1 :]  # PostgreSQL run as its own user
    if not command or shutil.which(command[0]) is None:
        return None  # a program that is not there starts nothing ("cannot start" tests)
    program = os.path.basename(command[0])
    if program.startswith("ffmpeg"):  # also imageio-ffmpeg's ffmpeg-linux-x86_64-v7.0.2
        return "ffmpeg"
    if program == "pg_ctl" and "start" in command:
        return "PostgreSQL (pg_ctl start)"
    if "run-driver" in command:
        return "a browser (the Playwright driver)"
    return SERVER_PROGRAMS.get(program)


@dataclass
class Running:
    """The test being run, and what it started that it may not."""

    nodeid: str
    slow: bool
    violations: list[str] = field(default_factory=list)


_current: Running | None = None


@contextlib.contextmanager
def running(nodeid: str, *, slow: bool) -> Iterator[Running]:
    """Note ``nodeid`` as the test being run for the block."""
    global _current
    _current = Running(nodeid, slow)
    try:
        yield _current
    finally:
        _current = None


def take_violations() -> list[str]:
    """The violations of the running test noted since the last call (then forgotten)."""
    if _current is None:
        return []
    found, _current.violations = _current.violations, []
    return found


def _argv(args: object) -> list[str]:
    if isinstance(args, str | bytes | os.PathLike):
        return [os.fsdecode(args)]
    if isinstance(args, Sequence):
        return [
            os.fsdecode(arg) if isinstance(arg, bytes | os.PathLike) else str(arg) for arg in args
        ]
    return []


def watch(event: str, args: tuple[object, ...]) -> None:
    """Audit hook: refuse a slow-tier program started by a test not marked slow."""
    if event != "subprocess.Popen" or _current is None or _current.slow:
        return
    started = server_started(_argv(args[1]))
    if started is None:
        return
    message = (
        f"{_current.nodeid} starts {started} but is not marked slow: mark it (or its module) "
        "with pytest.mark.slow, so that make test-fast stays quick"
    )
    _current.violations.append(message)
    raise ServerInQuickTier(message)
