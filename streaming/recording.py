"""Recordings: the replay of every broadcast, built from the files the pipeline left behind.

``Recorder`` builds (``build``), trims (``retrim``), recovers after a restart (``recover``) and
serves (``replay``) the recordings of this node's sessions; ``scan_recording`` reads the files
into a ``vod.Recording``. The steps: ``docs/architecture.md`` ("Slates and recordings").
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import msgspec

from streaming import names
from streaming.errors import (
    FfmpegTimedOut,
    InvalidMedia,
    InvalidName,
    RecordingFailed,
    RunsUnreachable,
    StreamingError,
)
from streaming.ffmpeg_args import CaptionTrack, concat_list, recording_args, run_mp4_args
from streaming.ffmpeg_process import run_ffmpeg
from streaming.fmp4 import TrackInfo, parse_init, scan_fragments
from streaming.handover import RunSource, import_runs, read_if_there
from streaming.ladder import interpretation_language
from streaming.subtitles import iso_639_2, recording_lines
from streaming.vocab import MediaKind, ResourceKind, RunKind
from streaming.vod import (
    CLAIMS,
    JOURNAL,
    Recording,
    Trim,
    VodRendition,
    VodRun,
    VodSegment,
    check_trim,
    in_recording_order,
    parse_claims,
    parse_journal,
    segment_clocks,
)
from studio.captions.cues import Cue, recording_zero_ms
from studio.captions.formats import render_vtt
from studio.errors import Fenced, StudioError
from studio.models import Session
from studio.states import RecordingState
from studio.store import RecordingRecord

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MANIFEST = "recording.json"
MP4 = "recording.mp4"
MP4_DIR = "mp4"
TRIM_TTL = 5.0
MISSING_TTL = 2.0
GATHER_WAIT_S = 60.0  # how long an earlier owner that cannot be reached is asked again
GATHER_RETRY_S = 2.0


class RecordingGate(Protocol):
    """What the recorder asks of the programme (``studio.service.Programme``)."""

    async def replay_ready(self, session_id: str) -> Session:
        """The replay is published."""

    async def recording_status(self, session_id: str) -> RecordingRecord | None:
        """The session's recording record."""

    async def save_recording(self, record: RecordingRecord) -> None:
        """Store the session's recording record."""

    async def ended_sessions(self) -> list[Session]:
        """Sessions that ended and have no replay yet."""

    async def unfinished_recordings(self) -> list[RecordingRecord]:
        """Recordings still marked as being built."""

    async def get_session(self, session_id: str) -> Session:
        """The session (``NotFound``)."""

    @property
    def caption_languages(self) -> tuple[str, ...]:
        """The languages the event captions in."""

    async def captions(self, session_id: str, language: str | None = None) -> list[Cue]:
        """The session's cues of ``language``, in time order."""


class RecordingFence(Protocol):
    """Which node may build a session's recording (``streaming.owners.MediaOwners``): the
    one holding the last claim of its media, checked again before every step that writes."""

    async def build_epoch(self, session_id: str) -> int | None:
        """The epoch this node builds under (None: nobody claimed it); ``Fenced`` if none."""

    async def check(self, session_id: str, epoch: int | None) -> None:
        """``Fenced`` once a claim newer than ``epoch`` holds the session's media."""

    async def earlier_nodes(self, session_id: str) -> dict[str, list[int]]:
        """The other nodes that held the session's media, each with the epochs it held."""


# --- reading the files (blocking: call in a worker thread) -------------------------------------


def _guess_name(track: TrackInfo, rendition: int) -> str:
    if track.kind is MediaKind.AUDIO:
        return "audio"
    return "source" if rendition == 0 else f"{track.height}p"


def _scan_segments(
    directory: Path, run: int, rendition: int, track: TrackInfo, clock_ms: int | None
) -> list[VodSegment]:
    segments: list[VodSegment] = []
    number = 1
    while True:
        name = names.segment_name(run, rendition, number)
        abandoned = False
        try:
            data = (directory / name).read_bytes()
        except FileNotFoundError:
            try:
                data = (directory / f"{name}.tmp").read_bytes()
            except FileNotFoundError:
                return segments
            abandoned = True
        fragments = scan_fragments(data, track)
        if fragments:
            last = fragments[-1]
            duration = sum(f.duration for f in fragments) / track.timescale
            if duration > 0:
                segments.append(
                    VodSegment(
                        name,
                        duration,
                        last.offset + last.length,
                        *segment_clocks(fragments[0].decode_time, track.timescale, clock_ms),
                    )
                )
        if abandoned:
            return segments
        number += 1


def scan_recording(directory: Path) -> Recording:
    """The recording the files in ``directory`` hold (see the module docstring)."""
    journal = parse_journal(read_if_there(directory / JOURNAL))
    claims = parse_claims(read_if_there(directory / CLAIMS))
    inits: dict[int, dict[int, str]] = {}
    try:
        listing = sorted(p.name for p in directory.iterdir())
    except FileNotFoundError:
        raise RecordingFailed("the broadcast left no media on this node") from None
    for file_name in listing:
        try:
            parsed = names.parse_name(file_name)
        except InvalidName:
            continue
        if parsed.kind is ResourceKind.INIT:
            inits.setdefault(parsed.run, {})[parsed.rendition] = parsed.name
    runs: list[dict[str, tuple[TrackInfo, VodRun]]] = []
    for run in in_recording_order(inits, journal, claims):
        entry = journal.get(run)
        if entry is not None and entry.kind is not RunKind.INGEST:
            continue  # a slate: not part of the recording
        pieces: dict[str, tuple[TrackInfo, VodRun]] = {}
        for rendition, init in sorted(inits[run].items()):
            try:
                track = parse_init((directory / init).read_bytes())
            except InvalidMedia:
                continue
            clock_ms = None if entry is None else entry.clock_ms
            segments = _scan_segments(directory, run, rendition, track, clock_ms)
            if not segments:
                continue
            if entry is not None and rendition < len(entry.renditions):
                name = entry.renditions[rendition]
            else:
                name = _guess_name(track, rendition)
            pieces[name] = (track, VodRun(run, init, tuple(segments)))
        if any(track.kind is MediaKind.VIDEO for track, _ in pieces.values()):
            runs.append(pieces)
    if not runs:
        raise RecordingFailed("the broadcast left no recorded media (it never went live here)")
    common = [name for name in runs[0] if all(name in pieces for pieces in runs)]
    renditions = []
    for name in common:
        track = runs[0][name][0]
        renditions.append(
            VodRendition(
                name=name,
                kind=track.kind,
                codec=track.codec,
                width=track.width,
                height=track.height,
                runs=tuple(pieces[name][1] for pieces in runs),
            )
        )
    # Video first, the source first; then the original sound, then the interpretations.
    renditions.sort(key=lambda r: (r.kind is MediaKind.AUDIO, r.name not in ("source", "audio")))
    return Recording(tuple(renditions))


def _write_atomic(path: Path, data: bytes) -> None:
    aside = path.with_name(path.name + ".part")
    aside.write_bytes(data)
    os.replace(aside, path)


def load_recording(directory: Path) -> Recording | None:
    """The recording stored next to the files, or None when there is none (yet)."""
    try:
        data = (directory / MANIFEST).read_bytes()
    except FileNotFoundError:
        return None
    try:
        return msgspec.json.decode(data, type=Recording)
    except (msgspec.DecodeError, StreamingError) as exc:
        log.error("%s is unreadable: %s", directory / MANIFEST, exc)
        return None


def join_run(directory: Path, run: VodRun, out: Path) -> None:
    """Write the run's init segment and segments (only their covered bytes) into ``out``."""
    with out.open("wb") as sink:
        sink.write((directory / run.init).read_bytes())
        for segment in run.segments:
            for candidate in (segment.uri, f"{segment.uri}.tmp"):
                try:
                    with (directory / candidate).open("rb") as source:
                        sink.write(source.read(segment.length))
                    break
                except FileNotFoundError:
                    continue
            else:
                raise RecordingFailed(f"segment {segment.uri} is gone")


# --- the adapter ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Replay:
    """What the HLS server needs of a published recording: it, its trim, its files by name."""

    recording: Recording
    trim: Trim
    segments: Mapping[str, VodSegment]
    inits: frozenset[str]

    @classmethod
    def of(cls, recording: Recording, trim: Trim) -> Replay:
        """Index ``recording``'s files."""
        runs = [run for rendition in recording.renditions for run in rendition.runs]
        return cls(
            recording,
            trim,
            {segment.uri: segment for run in runs for segment in run.segments},
            frozenset(run.init for run in runs),
        )


@dataclasses.dataclass
class _Cached:
    replay: Replay | None
    at: float


class Recorder:
    """Builds, trims and serves the recordings of this node's sessions (module docstring)."""

    def __init__(
        self,
        gate: RecordingGate,
        data_dir: Path,
        ffmpeg: str,
        *,
        ffmpeg_timeout: float = 3600.0,
    ) -> None:
        self.gate = gate
        self.data_dir = data_dir
        self.ffmpeg = ffmpeg
        self.ffmpeg_timeout = ffmpeg_timeout
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cache: dict[str, _Cached] = {}
        self.fence: RecordingFence | None = None  # who may build (``MediaPlane.set_ownership``)
        self.runs: RunSource | None = None  # how other nodes' runs are fetched

    def directory(self, session_id: str) -> Path:
        """Where the session's files are (absolute: paths become ffmpeg arguments); an id that
        could not name a media directory (``..``, slashes) raises ``InvalidName``."""
        if not SESSION_ID.fullmatch(session_id):
            raise InvalidName(session_id)
        return (self.data_dir / session_id).resolve()

    def mp4_path(self, session_id: str) -> Path:
        """The session's MP4 download (it may not exist)."""
        return self.directory(session_id) / MP4

    def busy(self, session_id: str) -> bool:
        """Whether a build or trim of the session is running."""
        task = self._tasks.get(session_id)
        return task is not None and not task.done()

    # --- building ----------------------------------------------------------------------------

    def build(
        self, session_id: str, settle: Callable[[], Awaitable[None]] | None = None
    ) -> asyncio.Task[None]:
        """Build the session's replay in the background, after ``settle`` (media stopped)."""
        return self._spawn(session_id, self._build(session_id, settle))

    def retrim(self, session_id: str) -> asyncio.Task[None]:
        """Rebuild the MP4 download with the trim now stored (the playlists follow at once)."""
        self._cache.pop(session_id, None)
        return self._spawn(session_id, self._retrim(session_id))

    def _spawn(self, session_id: str, work: Awaitable[None]) -> asyncio.Task[None]:
        older = self._tasks.get(session_id)
        if older is not None and not older.done():
            older.cancel()

        async def run() -> None:
            if older is not None:
                with contextlib.suppress(BaseException):
                    await older
            await work

        task = asyncio.create_task(run(), name=f"recording {session_id}")
        self._tasks[session_id] = task
        task.add_done_callback(lambda done: self._forget(session_id, done))
        return task

    def _forget(self, session_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(session_id) is task:
            del self._tasks[session_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("session %s: recording task failed", session_id, exc_info=task.exception())

    async def _save(
        self,
        session_id: str,
        state: RecordingState,
        message: str = "",
        *,
        duration: float | None = None,
        epoch: int | None = None,
    ) -> RecordingRecord:
        """Write the record under ``epoch``: the store refuses it (``Fenced``) once a newer
        claim holds the session's media."""
        now = datetime.now(UTC)
        current = await self.gate.recording_status(session_id)
        if current is None:
            current = RecordingRecord(session_id, state, message, None, None, None, now)
        record = dataclasses.replace(
            current,
            state=state,
            message=message,
            duration=current.duration if duration is None else duration,
            updated_at=now,
            epoch=epoch,
        )
        await self.gate.save_recording(record)
        return record

    async def _epoch(self, session_id: str) -> int | None:
        """The epoch this node builds the session's recording under (``Fenced`` if none)."""
        return None if self.fence is None else await self.fence.build_epoch(session_id)

    async def _check(self, session_id: str, epoch: int | None) -> None:
        """Before each step that writes: ``Fenced`` once another node claimed the media."""
        if self.fence is not None:
            await self.fence.check(session_id, epoch)

    async def _build(self, session_id: str, settle: Callable[[], Awaitable[None]] | None) -> None:
        if settle is not None:
            await settle()
        directory = self.directory(session_id)
        try:
            epoch = await self._epoch(session_id)
            earlier = {} if self.fence is None else await self.fence.earlier_nodes(session_id)
        except Fenced as exc:
            log.info("session %s: no recording built here: %s", session_id, exc.message)
            return
        except StudioError as exc:
            log.error("session %s: cannot tell which node records it: %s", session_id, exc)
            return
        if not earlier and not await asyncio.to_thread(directory.is_dir):
            log.info("session %s: no media on this node, so no recording here", session_id)
            return
        try:
            await self._save(session_id, RecordingState.BUILDING, epoch=epoch)
            missing = await self._gather(session_id, directory, earlier)
            await self._check(session_id, epoch)
            recording = await asyncio.to_thread(scan_recording, directory)
            data = msgspec.json.encode(recording)
            await self._check(session_id, epoch)
            await asyncio.to_thread(_write_atomic, directory / MANIFEST, data)
            self._cache.pop(session_id, None)
            record = await self.gate.recording_status(session_id)
            trim = _trim_of(record, recording.duration)
            await self._make_mp4(
                directory,
                recording,
                trim,
                captions=await self._caption_tracks(session_id, directory, recording, trim),
                before_publish=lambda: self._check(session_id, epoch),
            )
            await self._save(
                session_id,
                RecordingState.READY,
                missing,
                duration=recording.duration,
                epoch=epoch,
            )
        except Fenced as exc:
            log.info("session %s: recording given up: %s", session_id, exc.message)
            return
        except (StreamingError, OSError) as exc:
            await self._failed(session_id, exc, epoch)
            return
        except StudioError as exc:
            log.error("session %s: cannot record the recording's state: %s", session_id, exc)
            return
        try:
            await self.gate.replay_ready(session_id)
        except StudioError as exc:
            log.info("session %s: replay_ready not applied: %s", session_id, exc.message)
        log.info("session %s: replay ready (%.1f s)", session_id, recording.duration)

    async def _gather(
        self, session_id: str, directory: Path, earlier: Mapping[str, Sequence[int]]
    ) -> str:
        """Bring the runs the other nodes recorded here (each asked until it answers, at most
        ``GATHER_WAIT_S``); return what the replay lacks, in a sentence ("" when nothing)."""
        if not earlier or self.runs is None:
            return ""
        lost: list[str] = []
        for node, epochs in earlier.items():
            deadline = time.monotonic() + GATHER_WAIT_S
            while True:
                try:
                    brought = await import_runs(directory, session_id, node, self.runs)
                except RunsUnreachable as exc:
                    if time.monotonic() < deadline:
                        await asyncio.sleep(GATHER_RETRY_S)
                        continue
                    log.warning("session %s: runs on %s not fetched: %s", session_id, node, exc)
                    lost.append(f"{node} could not be reached")
                    break
                log.info("session %s: %d runs brought from %s", session_id, brought.copied, node)
                if not set(epochs) <= brought.epochs:
                    lost.append(f"{node} no longer has its files")
                break
        if not lost:
            return ""
        return (
            "part of the broadcast was recorded on another node that "
            + "; ".join(lost)
            + ": the replay holds what the other nodes recorded"
        )

    async def _retrim(self, session_id: str) -> None:
        directory = self.directory(session_id)
        try:
            epoch = await self._epoch(session_id)
            recording = await asyncio.to_thread(load_recording, directory)
            if recording is None:
                raise RecordingFailed("the recording's files are not on this node")
            record = await self.gate.recording_status(session_id)
            trim = _trim_of(record, recording.duration)
            await self._make_mp4(
                directory,
                recording,
                trim,
                captions=await self._caption_tracks(session_id, directory, recording, trim),
                before_publish=lambda: self._check(session_id, epoch),
            )
            message = "" if record is None else record.message
            await self._save(
                session_id,
                RecordingState.READY,
                message,
                duration=recording.duration,
                epoch=epoch,
            )
        except Fenced as exc:
            log.info("session %s: trim not applied here: %s", session_id, exc.message)
        except (StreamingError, OSError) as exc:
            await self._failed(session_id, exc, None)
        except StudioError as exc:
            log.error("session %s: cannot record the recording's state: %s", session_id, exc)

    async def _failed(self, session_id: str, exc: Exception, epoch: int | None) -> None:
        reason = exc.message if isinstance(exc, StreamingError) else f"cannot write files: {exc}"
        log.error("session %s: recording failed: %s", session_id, reason)
        try:
            await self._save(session_id, RecordingState.FAILED, reason, epoch=epoch)
        except StudioError as store_exc:
            log.error("session %s: cannot record the failure: %s", session_id, store_exc)

    async def _make_mp4(
        self,
        directory: Path,
        recording: Recording,
        trim: Trim,
        *,
        captions: Sequence[CaptionTrack] = (),
        before_publish: Callable[[], Awaitable[None]],
    ) -> None:
        """Per-run MP4s (made once), then their join with the trim and the caption tracks into
        ``recording.mp4`` (``before_publish`` runs before it takes that name)."""
        out_dir = directory / MP4_DIR
        await asyncio.to_thread(out_dir.mkdir, exist_ok=True)
        video = recording.video[0]
        audio = recording.audio
        spoken = recording.interpretations if audio is not None else ()
        parts: list[str] = []
        for index, run in enumerate(video.runs):
            out = out_dir / f"r{run.run:04d}.mp4"
            parts.append(str(out))
            if await asyncio.to_thread(out.is_file):
                continue
            video_in = out_dir / f"r{run.run:04d}_video.mp4"
            audio_in = out_dir / f"r{run.run:04d}_audio.mp4"
            spoken_in = [out_dir / f"r{run.run:04d}_{r.name}.mp4" for r in spoken]
            try:
                await asyncio.to_thread(join_run, directory, run, video_in)
                if audio is not None:
                    await asyncio.to_thread(join_run, directory, audio.runs[index], audio_in)
                for rendition, path in zip(spoken, spoken_in, strict=True):
                    await asyncio.to_thread(join_run, directory, rendition.runs[index], path)
                aside = out_dir / f"r{run.run:04d}.mp4.part"
                await self._ffmpeg(
                    run_mp4_args(
                        str(video_in),
                        None if audio is None else str(audio_in),
                        str(aside),
                        interpretations=[str(path) for path in spoken_in],
                        ffmpeg=self.ffmpeg,
                    )
                )
                await asyncio.to_thread(os.replace, aside, out)
            finally:
                for temporary in (video_in, audio_in, *spoken_in):
                    await asyncio.to_thread(temporary.unlink, missing_ok=True)
        listing = out_dir / "runs.txt"
        await asyncio.to_thread(listing.write_text, concat_list(parts), encoding="utf-8")
        aside = directory / f"{MP4}.part"
        await self._ffmpeg(
            recording_args(
                str(listing),
                str(aside),
                start=trim.start if trim.start > 0 else None,
                end=trim.end,
                captions=captions,
                interpretations=[iso_639_2(interpretation_language(r.name) or "") for r in spoken],
                ffmpeg=self.ffmpeg,
            )
        )
        await before_publish()
        await asyncio.to_thread(os.replace, aside, directory / MP4)

    async def _caption_tracks(
        self, session_id: str, directory: Path, recording: Recording, trim: Trim
    ) -> list[CaptionTrack]:
        """Write a WebVTT file per caption language that has cues, timed for the MP4 download
        (``subtitles.recording_lines``); none when the cues cannot be read (the MP4 is made
        without them)."""
        tracks: list[CaptionTrack] = []
        try:
            session = await self.gate.get_session(session_id)
            for language in self.gate.caption_languages:
                cues = await self.gate.captions(session_id, language)
                zero_ms = recording_zero_ms(session)
                lines = recording_lines(cues, recording.video[0], zero_ms, trim)
                if not lines:
                    continue
                path = directory / MP4_DIR / f"captions.{iso_639_2(language)}.{len(tracks)}.vtt"
                await asyncio.to_thread(path.parent.mkdir, exist_ok=True)
                await asyncio.to_thread(path.write_text, render_vtt(lines), encoding="utf-8")
                tracks.append(CaptionTrack(str(path), iso_639_2(language)))
        except StudioError as exc:
            log.warning("session %s: the MP4 is made without captions: %s", session_id, exc)
            return []
        return tracks

    async def _ffmpeg(self, args: Sequence[str]) -> None:
        """Run one ffmpeg to completion (killed if cancelled or too slow)."""
        try:
            await run_ffmpeg(args, label="recording", within=self.ffmpeg_timeout)
        except FfmpegTimedOut:
            raise RecordingFailed("ffmpeg took too long to write the recording") from None

    async def recover(self) -> None:
        """Build the recordings of sessions that ended without one (a failed build is tried
        again), and finish trims that were under way, when the node stopped meanwhile."""
        try:
            sessions = await self.gate.ended_sessions()
            unfinished = await self.gate.unfinished_recordings()
        except StudioError as exc:
            log.warning("cannot look for recordings to build: %s", exc.message)
            return
        ended = {session.id for session in sessions}
        for session_id in sorted(ended):
            if not self.busy(session_id):
                self.build(session_id)
        for record in unfinished:
            if record.session_id not in ended and not self.busy(record.session_id):
                self.retrim(record.session_id)

    async def close(self) -> None:
        """Stop every build (their ffmpeg is killed)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- serving -----------------------------------------------------------------------------

    async def replay(self, session_id: str) -> Replay | None:
        """The session's published recording and trim on this node, if any (cached briefly)."""
        if not SESSION_ID.fullmatch(session_id):
            return None
        now = time.monotonic()
        cached = self._cache.get(session_id)
        if cached is not None:
            ttl = TRIM_TTL if cached.replay is not None else MISSING_TTL
            if now - cached.at < ttl:
                return cached.replay
        if cached is not None and cached.replay is not None:
            recording: Recording | None = cached.replay.recording
        else:
            recording = await asyncio.to_thread(load_recording, self.directory(session_id))
        replay = None
        if recording is not None:
            try:
                record = await self.gate.recording_status(session_id)
            except StudioError:
                record = None
            trim = _trim_of(record, recording.duration)
            if cached is not None and cached.replay is not None and cached.replay.trim == trim:
                replay = cached.replay
            else:
                replay = Replay.of(recording, trim)
        self._cache[session_id] = _Cached(replay, now)
        return replay


def _trim_of(record: RecordingRecord | None, duration: float) -> Trim:
    """The stored trim, still checked against the recording (a stale one is ignored)."""
    if record is None or (record.trim_start is None and record.trim_end is None):
        return Trim()
    try:
        return check_trim(record.trim_start or 0.0, record.trim_end, duration)
    except StreamingError:
        log.warning("session %s: stored trim does not fit the recording", record.session_id)
        return Trim()
