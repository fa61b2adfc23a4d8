"""``torget serve`` as a real subprocess: its start line names where it listens and its public
URL, it takes its port before the first-start work, and what stops it at start is one line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from tests.support.harness import sqlite_url
from tests.support.servers import free_port
from tests.support.stores import run_torget

PUBLIC_URL = "https://live.example.org"


def node_env(tmp_path: Path, port: int) -> dict[str, str]:
    """A node on ``port`` with its store under ``tmp_path``, no media plane, no demo."""
    return {
        "TORGET_SERVER_PORT": str(port),
        "TORGET_SERVER_PUBLIC_URL": PUBLIC_URL,
        "TORGET_MEDIA_ENABLED": "false",
        "TORGET_DEMO_LOAD_ON_FIRST_START": "false",
    }


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    """``torget serve`` started in ``tmp_path``; stopped (SIGTERM) afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TORGET_")}
    env.update(node_env(tmp_path, port), TORGET_STORE_URL=sqlite_url(tmp_path))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "torget", "serve",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)


def taken(port: int) -> bool:
    """Whether 127.0.0.1:``port`` is bound by someone (a plain bind fails)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


async def answers(port: int, seconds: float = 30.0) -> bool:
    """Whether ``/healthz`` on 127.0.0.1:``port`` answers 200 within ``seconds``."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    if answer.status == 200:
                        return True
            await asyncio.sleep(0.1)
    return False


async def test_the_start_line_names_the_listening_address_and_the_public_url(
    tmp_path: Path,
) -> None:
    """The first line says where the node listens and the URL viewers use; by the time the
    first admin token follows the port is already the node's, and it answers once started."""
    port = free_port()
    async with serving(tmp_path, port) as node:
        assert node.stdout is not None
        first = await asyncio.wait_for(node.stdout.readline(), 30)
        assert first.decode() == (
            f"Torget listening on http://127.0.0.1:{port}, public URL {PUBLIC_URL}\n"
        )
        line = b""
        while b"first start" not in line:
            line = await asyncio.wait_for(node.stdout.readline(), 30)
            assert line, "the node ended before its first-start announcement"
        assert taken(port)
        assert await answers(port)


def test_a_busy_port_stops_serve_before_any_token_is_printed(tmp_path: Path) -> None:
    """On a port something else listens on, ``torget serve`` prints one line and exits with a
    non-zero status: no start line, no token, no store made."""
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = run_torget(
            "serve", store_url=sqlite_url(tmp_path), cwd=tmp_path, env=node_env(tmp_path, port)
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"torget: cannot listen on 127.0.0.1:{port}: address already in use\n"
    assert not (tmp_path / "torget.db").exists()


def test_a_store_that_cannot_be_opened_stops_serve_with_one_line(tmp_path: Path) -> None:
    """A node whose PostgreSQL does not answer ends with a non-zero status and a last line
    that says so, not a traceback."""
    result = run_torget(
        "serve",
        store_url=f"postgresql+asyncpg://torget@127.0.0.1:{free_port()}/torget",
        cwd=tmp_path,
        env=node_env(tmp_path, free_port()),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("torget: cannot open the store: ")
