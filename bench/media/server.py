"""A Torget node with its media plane on, started for the media benchmark.

``MediaServer`` writes a config file (``commands.torget_config``) into a work directory, runs
``python -m torget serve`` on free loopback ports, waits for HTTP and RTMP, takes the admin
token from the first-start output, and creates sessions whose stream keys the publishers use.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.fanout.servers import (
    HOST,
    REPO,
    TOKEN,
    Unavailable,
    free_port,
    stop_process,
    wait_for_port,
)
from bench.media.commands import torget_args, torget_config


def children(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (from /proc): the ffmpeg processes Torget runs."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


class MediaServer:
    """One Torget node with the given ladder (empty: passthrough alone)."""

    def __init__(
        self,
        workdir: Path,
        ladder: Sequence[int],
        *,
        slate: bool = False,
        interpretations: Sequence[str] = (),
    ) -> None:
        self.workdir = workdir
        self.ladder = tuple(ladder)
        self.slate = slate
        self.interpretations = tuple(interpretations)
        self.proc: asyncio.subprocess.Process | None = None
        self.http_port = 0
        self.rtmp_port = 0
        self.token = ""
        self.studios = 0
        self._http: aiohttp.ClientSession | None = None

    @property
    def base(self) -> str:
        """The node's HTTP base URL."""
        return f"http://{HOST}:{self.http_port}"

    @property
    def pid(self) -> int:
        """The Torget process id."""
        assert self.proc is not None
        return self.proc.pid

    def rtmp_url(self, key: str) -> str:
        """Where a publisher with ``key`` publishes."""
        return f"rtmp://{HOST}:{self.rtmp_port}/live/{key}"

    def ffmpeg_pids(self) -> list[int]:
        """The processes Torget runs now (one ffmpeg per live session)."""
        return children(self.pid)

    async def start(self) -> None:
        """Start the node and create a studio; raise Unavailable with the reason."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.http_port, self.rtmp_port = free_port(), free_port()
        config = self.workdir / "torget.toml"
        config.write_text(
            torget_config(
                http_port=self.http_port,
                rtmp_port=self.rtmp_port,
                store_url=f"sqlite+aiosqlite:///{self.workdir / 'torget.db'}",
                data_dir=self.workdir / "media",
                ladder=self.ladder,
                slate=self.slate,
                interpretations=self.interpretations,
            ),
            encoding="utf-8",
        )
        log = self.workdir / "torget.log"
        with log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                *torget_args(sys.executable, config),
                cwd=REPO, env={**_env(), "PYTHONUNBUFFERED": "1"},
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
            )  # fmt: skip
        try:
            await wait_for_port(HOST, self.http_port, self.proc, 30)
            await wait_for_port(HOST, self.rtmp_port, self.proc, 10)
        except Unavailable as exc:
            tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
            await self.stop()
            raise Unavailable(f"torget did not start: {exc}: {tail}") from None
        for _ in range(50):
            found = TOKEN.search(log.read_text(errors="replace"))
            if found:
                self.token = found.group(0)
                break
            await asyncio.sleep(0.1)
        else:
            await self.stop()
            raise Unavailable("no admin token (tgt_...) in torget's first-start output")
        self._http = aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.token}"})

    async def new_session(self, title: str, *, auto_start: bool = False) -> tuple[str, str]:
        """Schedule a session now, in a studio of its own (sessions of one studio may not
        overlap); return its id and stream key."""
        self.studios += 1
        studio = await self._post("/api/v1/studios", {"name": f"Benchmark {self.studios}"})
        now = datetime.now(UTC).replace(microsecond=0)
        session = await self._post(
            "/api/v1/sessions",
            {
                "studio_id": studio["id"],
                "title": title,
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(hours=3)).isoformat(),
                "auto_start": auto_start,
            },
        )
        return str(session["id"]), str(session["stream_key"])

    async def end_session(self, session_id: str) -> None:
        """End a live session (its ffmpeg and slate stop)."""
        await self._post(f"/api/v1/sessions/{session_id}/end", {})

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self._http is not None
        async with self._http.post(self.base + path, json=body) as answer:
            if answer.status >= 300:
                text = (await answer.text())[:200]
                raise Unavailable(f"POST {path} answered {answer.status}: {text}")
            data: dict[str, Any] = await answer.json()
            return data

    async def stop(self) -> None:
        """Stop the node (its ffmpeg processes go with it)."""
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self.proc is not None:
            await stop_process(self.proc, grace=10)


def _env() -> dict[str, str]:
    # TORGET_* variables of the caller's shell would override the config file: drop them.
    return {k: v for k, v in os.environ.items() if not k.startswith("TORGET_")}
