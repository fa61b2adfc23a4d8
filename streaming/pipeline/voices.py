"""Interpreters' voices into a session's ffmpeg run: one raw PCM pipe per interpretation.

``VoicePacer`` (pure) decides how much to write: the pipe stays a little ahead
(``VOICE_LEAD``) of both the wall clock since the run started and the media the run was given
(a held GOP arrives at once), so ffmpeg's mix never waits for a voice and the renditions it
writes beside it never wait for the mix. ``VoicePipes`` adapts it: the pipes ffmpeg inherits,
and a task that writes what the ``VoiceSource`` (the media plane's interpretation desk) has,
silence when nobody speaks. ffmpeg mixes each voice over the original sound
(``ffmpeg_args.interpretation_filters``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from streaming.ffmpeg_args import VOICE_CHANNELS, VOICE_RATE

SAMPLE_FRAME = 2 * VOICE_CHANNELS  # bytes of one s16le sample of every channel
BYTES_PER_SECOND = VOICE_RATE * SAMPLE_FRAME
VOICE_LEAD = 0.1  # seconds written ahead of what the run needs
TICK = 0.02  # seconds between writes
CHUNK = 3_840  # bytes per write: 20 ms, under PIPE_BUF, so a write is whole or not at all


class VoiceSource(Protocol):
    """Where the interpreters' voices come from (the media plane's interpretation desk)."""

    def take(self, session_id: str, language: str, nbytes: int) -> bytes:
        """Exactly ``nbytes`` of the language's voice (silence where there is none)."""


class Silence:
    """A voice source where nobody speaks."""

    def take(self, session_id: str, language: str, nbytes: int) -> bytes:
        """``nbytes`` of silence."""
        return bytes(nbytes)


@dataclass
class VoicePacer:
    """How many bytes of voice to write now (see the module docstring)."""

    lead: float = VOICE_LEAD
    written: int = 0

    def due(self, elapsed: float, media: float) -> int:
        """Bytes still to write for voice up to ``max(elapsed, media) + lead`` seconds, in
        whole sample frames."""
        wanted = (max(elapsed, media) + self.lead) * BYTES_PER_SECOND
        target = round(wanted) // SAMPLE_FRAME * SAMPLE_FRAME
        return max(0, target - self.written)

    def wrote(self, nbytes: int) -> None:
        """``nbytes`` went into the pipes."""
        self.written += nbytes


class VoicePipes:
    """The pipes of one run's interpretations and the task that fills them."""

    def __init__(self, session_id: str, languages: Sequence[str], source: VoiceSource) -> None:
        self.session_id = session_id
        self.languages = tuple(languages)
        self.source = source
        self._readers: list[int] = []
        self._writers: list[int] = []
        self._task: asyncio.Task[None] | None = None

    def open(self) -> list[int]:
        """Make the pipes; the read ends (ffmpeg's ``pipe:N`` inputs) to pass to ffmpeg."""
        for _ in self.languages:
            reader, writer = os.pipe()
            os.set_blocking(writer, False)
            self._readers.append(reader)
            self._writers.append(writer)
        return list(self._readers)

    def start(self, media_seconds: Callable[[], float]) -> None:
        """ffmpeg has its read ends: close ours and start writing (``media_seconds``: how much
        of the run's media ffmpeg was given)."""
        for reader in self._readers:
            os.close(reader)
        self._readers = []
        if self._writers:
            self._task = asyncio.create_task(self._fill(media_seconds))

    async def _fill(self, media_seconds: Callable[[], float]) -> None:
        pacer = VoicePacer()
        started = time.monotonic()
        while self._writers:
            due = pacer.due(time.monotonic() - started, media_seconds())
            while due >= SAMPLE_FRAME:
                size = min(due, CHUNK)
                if not self._write_all(size):
                    break
                pacer.wrote(size)
                due -= size
            await asyncio.sleep(TICK)

    def _write_all(self, size: int) -> bool:
        """Write ``size`` bytes of each voice; False when a pipe is full (ffmpeg is behind:
        that voice's chunk is dropped) or gone (then nothing more is written)."""
        full = False
        for language, writer in zip(self.languages, self._writers, strict=True):
            data = self.source.take(self.session_id, language, size)
            try:
                os.write(writer, data)
            except BlockingIOError:
                full = True
            except OSError:  # ffmpeg exited: its end of the pipe is closed
                self._close_writers()
                return False
        return not full

    def _close_writers(self) -> None:
        writers, self._writers = self._writers, []
        for writer in writers:
            with contextlib.suppress(OSError):
                os.close(writer)

    async def close(self) -> None:
        """Stop writing and close every end still open."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._close_writers()
        for reader in self._readers:
            with contextlib.suppress(OSError):
                os.close(reader)
        self._readers = []
