"""Clips: cut from a session's recording by ffmpeg in the background, one at a time per node.

``Clipper.recorded`` reads what can be clipped (the replay's recording, or while live the files
so far); ``Clipper.cut`` starts the job for a request's clips (one per aspect) and returns at
once. Each MP4 is written beside its final name (``.part``) and renamed when whole: a clip that
fails or is stopped leaves no file, and its record says why (``ClipState.FAILED``). The plan
(copy or re-encode, crop) is ``clip_plan``; the arguments are ``ffmpeg_args.clip_args``. Captions
to burn in arrive as a WebVTT file's text (timed on the recording's timeline), written into the
cut's work directory under a fixed name: their text is only ever file content.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from streaming.clip_plan import cut_plan, live_piece
from streaming.errors import InvalidName, NothingToClip, StreamingError
from streaming.ffmpeg_args import clip_args, clip_piece_args
from streaming.ffmpeg_process import run_ffmpeg
from streaming.recording import MP4_DIR, Recorder, join_run, load_recording, scan_recording
from streaming.vod import Recording, VodRun
from studio.clips import ClipRecord, ClipSpan, ClipState
from studio.errors import StudioError

log = logging.getLogger(__name__)

CLIPS_DIR = "clips"
CLIP_ID = re.compile(r"clp_[a-z0-9]{1,30}")
RUNS_LIST = "runs.txt"
SUBTITLES_FILE = "captions.vtt"


class ClipGate(Protocol):
    """What the clipper asks of the programme (``studio.service.Programme``)."""

    async def save_clip(self, record: ClipRecord) -> None:
        """Store how cutting a clip went."""

    async def clips_cutting(self) -> list[ClipRecord]:
        """Clips still marked as being cut."""


@dataclasses.dataclass(frozen=True)
class ClipSource:
    """What a request's clips are cut from: a recording and where it is read."""

    recording: Recording
    live: bool


class Clipper:
    """Cuts the clips of this node's sessions (see the module docstring)."""

    def __init__(
        self,
        gate: ClipGate,
        recorder: Recorder,
        *,
        preset: str = "veryfast",
        ffmpeg_timeout: float = 900.0,
    ) -> None:
        self.gate = gate
        self.recorder = recorder
        self.preset = preset
        self.ffmpeg_timeout = ffmpeg_timeout
        self._turn = asyncio.Lock()  # one cut at a time: the node's cores serve the live first
        self._tasks: set[asyncio.Task[None]] = set()

    def path(self, session_id: str, clip_id: str) -> Path:
        """Where a clip's MP4 is (it may not exist); ``InvalidName`` for an id that could not
        name one."""
        if not CLIP_ID.fullmatch(clip_id):
            raise InvalidName(clip_id)
        return self.recorder.directory(session_id) / CLIPS_DIR / f"{clip_id}.mp4"

    async def recorded(self, session_id: str, *, live: bool) -> ClipSource:
        """The recording a clip is cut from: while live the files so far, else the replay's."""
        directory = self.recorder.directory(session_id)
        if live:
            try:
                recording = await asyncio.to_thread(scan_recording, directory)
            except StreamingError:
                raise NothingToClip(
                    "nothing of the broadcast is recorded on this node yet"
                ) from None
            return ClipSource(recording, live=True)
        loaded = await asyncio.to_thread(load_recording, directory)
        runs = directory / MP4_DIR / RUNS_LIST
        if loaded is None or not await asyncio.to_thread(runs.is_file):
            raise NothingToClip("the replay's files are not on this node")
        return ClipSource(loaded, live=False)

    def cut(
        self,
        records: list[ClipRecord],
        source: ClipSource,
        span: ClipSpan,
        *,
        subtitles: str | None = None,
    ) -> asyncio.Task[None]:
        """Cut ``records`` (one session's clips of ``span``) in the background, with
        ``subtitles`` (a WebVTT file's text, on the recording's timeline) burned in, if any."""
        task = asyncio.create_task(self._cut(records, source, span, subtitles), name="clips")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _cut(
        self,
        records: list[ClipRecord],
        source: ClipSource,
        span: ClipSpan,
        subtitles: str | None,
    ) -> None:
        session_id = records[0].session_id
        directory = self.recorder.directory(session_id)
        clips_dir = directory / CLIPS_DIR
        work = clips_dir / f"{records[0].id}.work"
        async with self._turn:
            try:
                await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
                burn_in = None
                if subtitles is not None:
                    burn_in = work / SUBTITLES_FILE
                    await asyncio.to_thread(burn_in.write_text, subtitles, encoding="utf-8")
                if source.live:
                    media, start, concat = await self._live_piece(directory, work, source, span)
                else:
                    media, start, concat = directory / MP4_DIR / RUNS_LIST, span.start, True
                for record in records:
                    await self._cut_one(record, source, span, media, start, concat, burn_in)
            except (StreamingError, OSError) as exc:
                for record in records:
                    await self._failed(record, exc)
            finally:
                await asyncio.to_thread(shutil.rmtree, work, ignore_errors=True)

    async def _live_piece(
        self, directory: Path, work: Path, source: ClipSource, span: ClipSpan
    ) -> tuple[Path, float, bool]:
        """Join the last run's segments the clip needs into one MPEG-TS piece."""
        piece = live_piece(source.recording, span)
        video_in, audio_in, joined = work / "video.mp4", work / "audio.mp4", work / "piece.ts"
        run, segments = piece.video
        await asyncio.to_thread(join_run, directory, VodRun(run.run, run.init, segments), video_in)
        audio = None
        if piece.audio is not None:
            audio_run, audio_segments = piece.audio
            chosen = VodRun(audio_run.run, audio_run.init, audio_segments)
            await asyncio.to_thread(join_run, directory, chosen, audio_in)
            audio = str(audio_in)
        await self._ffmpeg(
            clip_piece_args(str(video_in), audio, str(joined), ffmpeg=self.recorder.ffmpeg)
        )
        return joined, span.start - piece.starts_at, False

    async def _cut_one(
        self,
        record: ClipRecord,
        source: ClipSource,
        span: ClipSpan,
        media: Path,
        start: float,
        concat: bool,
        subtitles: Path | None,
    ) -> None:
        plan = cut_plan(source.recording, span, record.aspect)
        out = self.path(record.session_id, record.id)
        aside = out.with_name(out.name + ".part")
        args = clip_args(
            str(media),
            str(aside),
            start=max(0.0, start),
            duration=span.length,
            concat=concat,
            copy=plan.copy and subtitles is None,
            crop=plan.crop,
            subtitles=None if subtitles is None else str(subtitles),
            subtitles_at=span.start,
            preset=self.preset,
            ffmpeg=self.recorder.ffmpeg,
        )
        try:
            await self._ffmpeg(args)
            await asyncio.to_thread(aside.replace, out)
        except BaseException:
            await asyncio.to_thread(aside.unlink, missing_ok=True)
            raise
        size = (await asyncio.to_thread(out.stat)).st_size
        done = dataclasses.replace(
            record,
            state=ClipState.READY,
            duration=round(span.length, 3),
            width=plan.width,
            height=plan.height,
            size_bytes=size,
            updated_at=datetime.now(UTC),
        )
        try:
            await self.gate.save_clip(done)
        except StudioError as exc:  # the clip was deleted meanwhile: so is its file
            log.info("clip %s: not recorded (%s); its file is removed", record.id, exc.message)
            await asyncio.to_thread(out.unlink, missing_ok=True)
        log.info("clip %s of session %s ready (%s)", record.id, record.session_id, record.aspect)

    async def _ffmpeg(self, args: list[str]) -> None:
        await run_ffmpeg(args, label="clip", within=self.ffmpeg_timeout)

    async def _failed(self, record: ClipRecord, exc: Exception) -> None:
        reason = exc.message if isinstance(exc, StreamingError) else f"cannot write files: {exc}"
        log.error("clip %s of session %s failed: %s", record.id, record.session_id, reason)
        failed = dataclasses.replace(
            record, state=ClipState.FAILED, message=reason, updated_at=datetime.now(UTC)
        )
        with contextlib.suppress(StudioError):
            await self.gate.save_clip(failed)

    async def recover(self) -> None:
        """Clips still being cut when the node stopped are failed (their ``.part`` removed)."""
        try:
            cutting = await self.gate.clips_cutting()
        except StudioError as exc:
            log.warning("cannot look for unfinished clips: %s", exc.message)
            return
        for record in cutting:
            try:
                aside = self.path(record.session_id, record.id).with_suffix(".mp4.part")
                await asyncio.to_thread(aside.unlink, missing_ok=True)
            except (StreamingError, OSError):
                pass
            await self._failed(record, NothingToClip("the node stopped while cutting the clip"))

    async def close(self) -> None:
        """Stop every cut (their ffmpeg is killed, their ``.part`` removed)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
