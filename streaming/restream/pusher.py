"""One restream destination of one publish: its ffmpeg, its retries and its status.

``Pusher`` runs ``ffmpeg -f flv -i pipe:0 -c copy -f flv <url>`` (``ffmpeg_args.restream_args``)
through ``ffmpeg_process.FfmpegProcess``, fed from its ``PushBuffer``; ``tag()`` never blocks.
ffmpeg exiting is a failure, and so is one not live ``connect_timeout`` after it started or
that sent nothing for ``stall_timeout`` (it is killed); the pusher waits as the ``RetryPolicy``
says and starts again at the next keyframe, until it gives up. It is live once ffmpeg reports
bytes written. Before each attempt the destination is resolved and checked again
(``reach.check_destination``): an attempt to an address the ``Reach`` refuses fails without
starting ffmpeg. ``DestinationStatus`` is what the API shows (never the URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from streaming.errors import FfmpegNotStarted
from streaming.ffmpeg_args import PipeInput, redact_url, restream_args
from streaming.ffmpeg_process import FfmpegProcess
from streaming.ffmpeg_progress import progress_bytes
from streaming.flv import FlvTag
from streaming.ladder import SourceInfo
from streaming.restream.buffer import PushBuffer
from streaming.restream.reach import Resolve, check_destination, resolve
from streaming.restream.retry import Retries, RetryPolicy
from streaming.restream.urls import Reach, scrub, tc_url
from streaming.vocab import AudioCodec, InputFormat, RestreamState

log = logging.getLogger(__name__)

_STDERR_LINES = 10


def utcnow() -> datetime:
    """Now, in UTC (the default wall clock of statuses)."""
    return datetime.now(UTC)


@dataclass
class DestinationStatus:
    """Where a destination's push is, as the API shows it (never holds the URL)."""

    state: RestreamState = RestreamState.IDLE
    since: datetime = field(default_factory=utcnow)
    attempts: int = 0
    last_error: str | None = None
    bytes_sent: int = 0
    dropped_frames: int = 0

    def move(self, state: RestreamState, now: datetime) -> None:
        """Change state (``since`` only moves when the state does)."""
        if state is not self.state:
            self.state = state
            self.since = now


@dataclass(frozen=True)
class Target:
    """An enabled destination to push to."""

    id: str
    url: str = field(repr=False)


@dataclass(frozen=True)
class RestreamConfig:
    """How pushes run."""

    ffmpeg: str = "ffmpeg"
    max_queue_bytes: int = 8 * 1024 * 1024
    connect_timeout: float = 20.0
    stall_timeout: float = 30.0
    check_seconds: float = 0.5
    stop_timeout: float = 5.0
    sync_seconds: float = 5.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    reach: Reach = field(default_factory=Reach)
    lookup: Resolve = resolve


class Pusher:
    """Pushes one publish to one destination (see the module docstring)."""

    def __init__(
        self,
        session_id: str,
        target: Target,
        source: SourceInfo,
        heads: Iterable[FlvTag],
        config: RestreamConfig,
        status: DestinationStatus,
        wall: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session_id = session_id
        self.target = target
        self.config = config
        self.status = status
        self._wall = wall
        self._audio = AudioCodec.AAC if source.has_audio else None
        self._args(target.url)  # InvalidArgument now for a URL that can never be pushed
        self._buffer = PushBuffer(source.has_audio, config.max_queue_bytes, heads)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._sent_before = 0
        self.progress_at = 0.0
        self.retries = Retries(config.policy)
        self._task: asyncio.Task[None] | None = None
        self._process: FfmpegProcess | None = None

    @property
    def pid(self) -> int | None:
        """The running ffmpeg's process id, if one runs."""
        return self._process.pid if self._process is not None else None

    @property
    def name(self) -> str:
        """How logs name this push (the URL redacted)."""
        return (
            f"session {self.session_id}: restream {self.target.id} ({redact_url(self.target.url)})"
        )

    @property
    def done(self) -> bool:
        """Whether the push is over (stopped, or gave up)."""
        return self._task is not None and self._task.done()

    def start(self) -> None:
        """Begin pushing (from the next keyframe)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"restream {self.target.id}")

    def tag(self, tag: FlvTag) -> None:
        """Queue ``tag`` for ffmpeg; never blocks (drops to the next keyframe when behind)."""
        if self._buffer.offer(tag):
            self._wake.set()
        self.status.dropped_frames = self._buffer.dropped_frames

    async def stop(self) -> None:
        """Stop pushing: ffmpeg gets EOF (then is killed if it lingers); status ``stopped``."""
        self._stop.set()
        self._wake.set()
        task = self._task
        if task is None:
            self.status.move(RestreamState.STOPPED, self._wall())
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), 3 * self.config.stop_timeout)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        status = self.status
        while not self._stop.is_set():
            status.move(RestreamState.CONNECTING, self._wall())
            self.retries.started()
            error = await self._attempt()
            if self._stop.is_set():
                break
            delay = self.retries.ended()
            status.attempts = self.retries.failures
            status.last_error = error
            if delay is None:
                status.move(RestreamState.FAILED, self._wall())
                log.warning("%s: gave up after %d failures: %s", self.name, status.attempts, error)
                return
            status.move(RestreamState.RETRYING, self._wall())
            log.warning(
                "%s: attempt %d failed (%s); retrying in %.3g s",
                self.name,
                status.attempts,
                error,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
        status.move(RestreamState.STOPPED, self._wall())

    def _args(self, url: str) -> list[str]:
        pinned = url != self.target.url
        return restream_args(
            PipeInput(InputFormat.FLV),
            url,
            audio=self._audio,
            ffmpeg=self.config.ffmpeg,
            tc_url=tc_url(self.target.url) if pinned else None,
        )

    async def _attempt(self) -> str:
        """One ffmpeg run; returns why it ended (scrubbed of the stream key)."""
        checked = await check_destination(self.target.url, self.config.reach, self.config.lookup)
        if checked.refusal is not None:
            log.warning("%s: not pushed: the URL %s", self.name, checked.refusal)
            return f"not pushed: the URL {checked.refusal}"
        try:
            process = await FfmpegProcess.start(
                self._args(checked.url),
                label=self.name,
                on_progress=self._progress,
                tail_lines=_STDERR_LINES,
                clean=lambda line: scrub(line, self.target.url)[:300],
            )
        except FfmpegNotStarted as exc:
            return f"cannot start ffmpeg: {exc.reason}"
        self._process = process
        self._buffer.begin()
        log.info("%s: ffmpeg started (pid %d)", self.name, process.pid)
        writer = asyncio.create_task(self._write(process))
        waiter = asyncio.create_task(process.wait())
        stopper = asyncio.create_task(self._stop.wait())
        started = self.progress_at = time.monotonic()
        stuck: str | None = None
        try:
            while stuck is None:
                done, _ = await asyncio.wait(
                    {waiter, stopper},
                    timeout=self.config.check_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if done:
                    break
                stuck = self.stuck(time.monotonic(), started)
            if stuck is not None:
                process.kill()
            elif self._stop.is_set():
                await process.stop(self.config.stop_timeout)
            await waiter
            await process.drained(self.config.stop_timeout)
        finally:
            self._buffer.halt()
            for task in (writer, waiter, stopper):
                task.cancel()
            await asyncio.gather(writer, waiter, stopper, return_exceptions=True)
            await process.close()
        self._sent_before = self.status.bytes_sent
        if stuck is not None:
            return stuck
        return process.last_line or f"ffmpeg exited with code {process.returncode}"

    def stuck(self, now: float, started: float) -> str | None:
        """Why a running ffmpeg should be given up: never connected, or stopped sending."""
        if self.status.state is not RestreamState.LIVE:
            if now - started >= self.config.connect_timeout:
                return f"no connection within {self.config.connect_timeout:g} s"
        elif now - self.progress_at >= self.config.stall_timeout:
            return f"nothing sent for {self.config.stall_timeout:g} s"
        return None

    async def _write(self, process: FfmpegProcess) -> None:
        while not self._stop.is_set():
            data = self._buffer.take()
            if data is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            if not await process.write(data):
                return  # ffmpeg exited: the run loop sees it

    def _progress(self, block: dict[str, str]) -> None:
        sent = progress_bytes(block)
        if self._sent_before + sent > self.status.bytes_sent:
            self.progress_at = time.monotonic()
        self.status.bytes_sent = self._sent_before + sent
        if sent > 0 and self.status.state is RestreamState.CONNECTING:
            self.retries.went_live()
            self.status.move(RestreamState.LIVE, self._wall())
            log.info("%s: live", self.name)
