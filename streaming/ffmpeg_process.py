"""One ffmpeg subprocess as the pipeline, the slate, the restreamer and the recorder run it.

Started from an argument list (never a shell); ``-progress`` (stdout) goes through the pure
``ffmpeg_progress.ProgressReader`` to a callback and stderr is kept as a short tail, both always
drained; stopping is EOF first, then a kill when ffmpeg lingers; every wait is bounded.
Failing to start raises ``FfmpegNotStarted`` (the ``OSError`` mapped into ``streaming.errors``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import deque
from collections.abc import Callable, Sequence

from streaming.errors import FfmpegFailed, FfmpegNotStarted, FfmpegTimedOut
from streaming.ffmpeg_progress import ProgressReader

log = logging.getLogger(__name__)

PIPE = asyncio.subprocess.PIPE
DEVNULL = asyncio.subprocess.DEVNULL
DRAIN_TIMEOUT = 5.0

ProgressListener = Callable[[dict[str, str]], None]


def _same(line: str) -> str:
    return line


class FfmpegProcess:
    """A running ffmpeg (``start`` makes one); ``label`` names it in debug logs."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        *,
        label: str,
        tail_lines: int,
        clean: Callable[[str], str],
        on_progress: ProgressListener | None,
    ) -> None:
        self._process = process
        self.label = label
        self.tail: deque[str] = deque(maxlen=max(tail_lines, 1))
        self._clean = clean
        self._on_progress = on_progress
        self._readers: list[asyncio.Task[None]] = []
        if process.stdout is not None:
            self._readers.append(asyncio.create_task(self._read_progress()))
        if process.stderr is not None:
            self._readers.append(asyncio.create_task(self._read_stderr()))

    @classmethod
    async def start(
        cls,
        args: Sequence[str],
        *,
        label: str,
        stdin: int = PIPE,
        stdout: int = DEVNULL,
        on_progress: ProgressListener | None = None,
        tail_lines: int = 20,
        clean: Callable[[str], str] = _same,
        what: str = "ffmpeg",
        pass_fds: Sequence[int] = (),
    ) -> FfmpegProcess:
        """Start ``args``. ``stdin``/``stdout`` are ``PIPE``, ``DEVNULL`` or a file descriptor;
        with ``on_progress`` stdout is a pipe read as ``-progress`` blocks. Stderr is read into
        ``tail`` (each line through ``clean``) unless ``tail_lines`` is 0. Raises
        ``FfmpegNotStarted`` (its message names ``what``) when the program cannot start.
        ``pass_fds`` are more file descriptors the program inherits (as ``pipe:N`` inputs)."""
        try:
            process = await asyncio.create_subprocess_exec(
                *args,
                stdin=stdin,
                stdout=PIPE if on_progress is not None else stdout,
                stderr=PIPE if tail_lines > 0 else DEVNULL,
                pass_fds=tuple(pass_fds),
            )
        except OSError as exc:
            raise FfmpegNotStarted(args[0], exc, what) from exc
        return cls(
            process, label=label, tail_lines=tail_lines, clean=clean, on_progress=on_progress
        )

    # --- state

    @property
    def pid(self) -> int | None:
        """The process id while it runs, else None."""
        return self._process.pid if self._process.returncode is None else None

    @property
    def returncode(self) -> int | None:
        """The exit code once it exited."""
        return self._process.returncode

    @property
    def last_line(self) -> str:
        """The last line ffmpeg wrote to stderr ("" when none)."""
        return self.tail[-1] if self.tail else ""

    # --- input

    async def write(self, data: bytes, within: float | None = None) -> bool:
        """Write to ffmpeg's stdin, waiting for it to read (at most ``within`` s: then
        ``TimeoutError``); False when ffmpeg is gone or its stdin closed."""
        stdin = self._process.stdin
        if stdin is None or stdin.is_closing() or self._process.returncode is not None:
            return False
        try:
            stdin.write(data)
            await asyncio.wait_for(stdin.drain(), within)
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def end_input(self) -> None:
        """EOF on stdin: ffmpeg finishes what it writes and exits."""
        stdin = self._process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()

    # --- ending

    def send_signal(self, how: signal.Signals) -> None:
        """Signal the process if it still runs."""
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(how)

    def kill(self) -> None:
        """Kill the process if it still runs."""
        self.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        """Wait until the process exited; its exit code."""
        return await self._process.wait()

    async def drained(self, within: float = DRAIN_TIMEOUT) -> None:
        """Wait (at most ``within`` s) until stdout and stderr were read to their end."""
        if self._readers:
            await asyncio.wait(self._readers, timeout=within)

    async def finish(self, within: float) -> None:
        """Give the process ``within`` s to exit, then kill it and wait for that."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._process.wait(), within)
        if self._process.returncode is None:
            self.kill()
            await self._process.wait()

    async def stop(self, within: float) -> None:
        """EOF first (ffmpeg finishes its output), then a kill if it does not exit in time."""
        self.end_input()
        await self.finish(within)

    async def close(self) -> None:
        """Stop reading, kill the process if it still runs and reap it (idempotent)."""
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        if self._process.returncode is None:
            self.kill()
            await self._process.wait()

    # --- output

    async def _read_progress(self) -> None:
        assert self._process.stdout is not None
        reader = ProgressReader()
        async for raw in self._process.stdout:
            block = reader.line(raw.decode(errors="replace"))
            if block is not None and self._on_progress is not None:
                self._on_progress(block)

    async def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        async for raw in self._process.stderr:
            line = self._clean(raw.decode(errors="replace").strip())
            if line:
                self.tail.append(line)
                log.debug("%s: ffmpeg: %s", self.label, line)


async def run_ffmpeg(args: Sequence[str], *, label: str, within: float) -> None:
    """Run one ffmpeg to its end (no input, output to files): ``FfmpegTimedOut`` after
    ``within`` s, ``FfmpegFailed`` with its last lines when it exits with a failure; it is
    killed when the caller is cancelled."""
    process = await FfmpegProcess.start(args, label=label, stdin=DEVNULL, tail_lines=5)
    try:
        await asyncio.wait_for(asyncio.gather(process.drained(within), process.wait()), within)
    except TimeoutError:
        raise FfmpegTimedOut(f"ffmpeg did not finish within {within:g} s") from None
    finally:
        await process.close()
    if process.returncode != 0:
        raise FfmpegFailed(process.returncode, " | ".join(process.tail) or "no output")
