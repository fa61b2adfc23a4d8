"""``SessionPipeline``: one session's ffmpeg runs and playlists (``docs/architecture.md``).

While an ingest is up one ffmpeg (``ffmpeg_args.live_args``) is fed FLV on stdin and
restarted as a new run when it exits, or rolled over to a new run when the source's parameter
sets change (``FlvFeed.changes_config``); a watcher reads each run's files
(``output.RunOutput``) into the playlists and wakes waiting requests (``Notifier``). Slates
(``slate.start_slate``) are runs reading MPEG-TS. Every run is noted in the run journal
(``vod.JOURNAL``) for the recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import logging
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import msgspec

from streaming import names
from streaming.errors import InvalidMedia, PipelineError, StreamingError
from streaming.ffmpeg_args import PipeInput, carried, live_args
from streaming.ffmpeg_process import PIPE, FfmpegProcess
from streaming.flv import FlvFeed, FlvTag, IngestClock
from streaming.fmp4 import TrackInfo
from streaming.ladder import LadderPlan, LadderSettings, Rendition, SourceInfo, plan_ladder
from streaming.llhls import (
    MediaPlaylist,
    RenditionReport,
    SubtitleMedia,
    apply_written,
    interpretations_for,
    multivariant_for,
    render_multivariant,
)
from streaming.onair import GopBuffer
from streaming.overload import LoadWatch, OverloadSettings
from streaming.pipeline.output import InitFound, RunOutput, Update, playlists_for
from streaming.pipeline.slate import SlateLook, start_slate
from streaming.pipeline.voices import Silence, VoicePipes, VoiceSource
from streaming.subtitles import LANGUAGE_NAMES
from streaming.vocab import InputFormat, OnAir, RunKind, SlateKind
from streaming.vod import JOURNAL, JournalEntry, journal_line

log = logging.getLogger(__name__)


class RunMode(enum.Enum):
    """What an ffmpeg run reads: the publisher's FLV, or the slate's MPEG-TS."""

    INGEST = "ingest"
    SLATE = "slate"


@dataclass(frozen=True)
class PipelineConfig:
    """How a session pipeline runs (built from the ``[media]`` settings)."""

    ffmpeg: str
    ladder: LadderSettings = field(default_factory=LadderSettings)
    window_seconds: float = 12.0
    poll_seconds: float = 0.05
    restart_delay: float = 0.25
    max_restart_delay: float = 5.0
    stop_timeout: float = 5.0
    write_timeout: float = 5.0
    slate: bool = True
    slate_font: str | None = None
    overload: OverloadSettings = field(default_factory=OverloadSettings)
    slate_look: SlateLook = field(default_factory=SlateLook)


class Notifier:
    """Wakes every waiter when something changed (one event per generation, never polled)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake everyone waiting now."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, within: float) -> bool:
        """Wait for the next change, at most ``within`` seconds; whether one came."""
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), max(within, 0.0))
        except TimeoutError:
            return False
        return True


def _append(path: Path, line: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(line)


def shape(plan: LadderPlan) -> tuple[tuple[str, str, str | None], ...]:
    """What must stay the same for a new ingest to continue a session's playlists."""
    return tuple((r.name, r.kind.value, r.mode.value if r.mode else None) for r in plan.renditions)


class SessionPipeline:
    """The media of one session: its playlists, and its ffmpeg while an ingest is up."""

    def __init__(
        self,
        session_id: str,
        directory: Path,
        config: PipelineConfig,
        *,
        first_run: int = 1,
        voices: VoiceSource | None = None,
    ) -> None:
        self.session_id = session_id
        self.voices: VoiceSource = voices or Silence()  # the interpreters' (``voices``)
        self.directory = directory
        self.config = config
        self.plan: LadderPlan | None = None
        self.playlists: dict[int, MediaPlaylist] = {}
        self.tracks: dict[int, TrackInfo] = {}
        self.changed = Notifier()
        self.ready = asyncio.Event()
        self.run = first_run - 1
        self.restarts = 0
        self.progress: dict[str, str] = {}
        self.dropped: list[int] = []  # renditions dropped for overload (``overload.LoadWatch``)
        self._load: LoadWatch | None = None
        self._blocked = 0.0  # seconds spent waiting for ffmpeg to take its input, in all
        self._streams: dict[int, dict[int, int]] = {}  # run -> output stream -> rendition
        self.ended = False
        self._process: FfmpegProcess | None = None
        self._feed: FlvFeed | None = None
        self._mode: RunMode | None = None
        self._title = ""
        self._slate_kind = SlateKind.BE_RIGHT_BACK
        self._held: GopBuffer | None = None
        self._clock: IngestClock | None = None  # times the publisher's tags
        self._run_taken_in: datetime | None = None  # the run's first input, taken in
        self._run_first_ms: int | None = None  # the run's first tag's timestamp
        self._run_media = 0.0  # seconds of media the run was given
        self._voice_pipes: VoicePipes | None = None  # the run's interpretations
        self._feed_lock = asyncio.Lock()
        self._switching = asyncio.Lock()  # hold / go_live / a held ingest leaving, one at a time
        self._slate: FfmpegProcess | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._rolling: tuple[str, asyncio.Event] | None = None  # why, and set once rolled
        self._dropping: asyncio.Task[None] | None = None
        self._entry: JournalEntry | None = None  # the current run's journal line

    # --- what the HTTP side reads ---------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The running ffmpeg's process id, if one runs."""
        return self._process.pid if self._process is not None else None

    @property
    def ingest_up(self) -> bool:
        """Whether a publisher is feeding this pipeline."""
        return self._mode is RunMode.INGEST

    @property
    def slate_on(self) -> bool:
        """Whether a slate is on air (starting soon, or a live session without its ingest)."""
        return self._mode is RunMode.SLATE

    @property
    def holding(self) -> bool:
        """Whether a publisher's media is held back while the "starting soon" slate is on."""
        return self._held is not None

    @property
    def on_air(self) -> OnAir:
        """What the playlists carry now."""
        if self._mode is RunMode.INGEST:
            return OnAir.INGEST
        if self._mode is RunMode.SLATE:
            if self._slate_kind is SlateKind.STARTING_SOON:
                return OnAir.STARTING_SOON
            return OnAir.BE_RIGHT_BACK
        return OnAir.OFF if self.ended or self.plan is None else OnAir.SILENT

    @property
    def offered(self) -> LadderPlan | None:
        """The plan less the renditions dropped for overload: what viewers are offered."""
        if self.plan is None or not self.dropped:
            return self.plan
        return dataclasses.replace(
            self.plan, renditions=tuple(carried(self.plan, frozenset(self.dropped)))
        )

    def playlist_named(self, name: str) -> tuple[int, MediaPlaylist] | None:
        """The rendition index and playlist behind a media playlist name (``720p.m3u8``);
        None for a rendition dropped for overload."""
        plan = self.offered
        if plan is None:
            return None
        for rendition in plan.renditions:
            if names.playlist_name(rendition.name) == name:
                return rendition.index, self.playlists[rendition.index]
        return None

    @property
    def dropped_names(self) -> list[str]:
        """The names of the renditions dropped for overload, in the order they went."""
        plan = self.plan
        return [] if plan is None else [plan.renditions[i].name for i in self.dropped]

    @property
    def ladder_speed(self) -> float | None:
        """Media seconds ffmpeg wrote per wall second lately (None: not measured yet)."""
        return None if self._load is None else self._load.speed()

    def rendition_of(self, run: int, stream: int) -> int:
        """The rendition a run's output stream (the number in its file names) carries."""
        return self._streams.get(run, {}).get(stream, stream)

    def reports(self, rendition: int) -> list[RenditionReport]:
        """EXT-X-RENDITION-REPORTs of the other renditions, for ``rendition``'s playlist."""
        plan = self.offered
        if plan is None:
            return []
        return [
            self.playlists[r.index].report(names.playlist_name(r.name))
            for r in plan.renditions
            if r.index != rendition
        ]

    def multivariant(self, subtitles: Sequence[SubtitleMedia] = ()) -> str:
        """The multivariant playlist (once every rendition has a segment: ``ready``), with a
        subtitle rendition per caption language."""
        plan = self.offered
        if plan is None:
            raise InvalidMedia("no media yet")
        variants, audio = multivariant_for(plan, self.tracks)
        spoken = interpretations_for(plan, self.tracks, LANGUAGE_NAMES)
        return render_multivariant(variants, audio, subtitles, spoken)

    def timed_playlist(self) -> MediaPlaylist | None:
        """The playlist subtitle renditions follow: the first video rendition's."""
        if self.plan is None or not self.plan.video:
            return None
        return self.playlists.get(self.plan.video[0].index)

    def compatible(self, source: SourceInfo) -> bool:
        """Whether a new ingest of ``source`` can continue this pipeline's playlists."""
        if self.ended:
            return False
        if self.plan is None:
            return True
        return shape(plan_ladder(source, self.config.ladder)) == shape(self.plan)

    # --- ingest ----------------------------------------------------------------------------

    async def start_ingest(
        self, source: SourceInfo, tags: Sequence[FlvTag], clock: IngestClock | None = None
    ) -> None:
        """A publisher's source is known: plan (first time), start ffmpeg, feed ``tags``;
        ``clock`` times its tags (the segments' program date times)."""
        self._clock = clock
        if self._mode is RunMode.INGEST:
            raise PipelineError("this session already has an ingest")
        if self._mode is RunMode.SLATE:
            await self.stop_slate()
        if self.plan is None:
            self.plan = plan_ladder(source, self.config.ladder)
            self.playlists = playlists_for(self.plan, self.config.window_seconds, self.run + 1)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._feed = FlvFeed(has_audio=self.plan.audio is not None)
        await self._begin(RunMode.INGEST)
        for tag in tags:
            await self.feed(tag)

    async def hold(
        self,
        source: SourceInfo,
        tags: Sequence[FlvTag],
        title: str,
        clock: IngestClock | None = None,
    ) -> None:
        """A publisher's source is known but the session is not live: put the "starting soon"
        slate on air and hold the publisher's media until ``go_live``."""
        self._clock = clock
        if self._mode is not None:
            raise PipelineError("this session already has media on air")
        if self.plan is None:
            self.plan = plan_ladder(source, self.config.ladder)
            self.playlists = playlists_for(self.plan, self.config.window_seconds, self.run + 1)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._feed = FlvFeed(has_audio=self.plan.audio is not None)
        held = GopBuffer()
        for tag in tags:
            held.push(tag)
        self._held = held
        async with self._switching:
            await self.start_slate(title, SlateKind.STARTING_SOON)
        if self._mode is None:  # no slate (turned off, or it failed): show the ingest
            await self.go_live()

    async def go_live(self) -> None:
        """The session went live: take the slate off and start the held ingest's run."""
        async with self._switching:
            held = self._held
            if held is None or self.ended:
                return
            if self._mode is RunMode.SLATE:
                await self.stop_slate()
            async with self._feed_lock:
                await self._begin(RunMode.INGEST)
                self._held = None
                for tag in held.take():
                    await self._write(tag)

    async def start_slate(self, title: str, kind: SlateKind = SlateKind.BE_RIGHT_BACK) -> None:
        """Put a slate on air: "we'll be right back" (a live session lost its ingest) or
        "starting soon" (``hold``)."""
        if self.plan is None or self.ended or self._mode is not None or not self.config.slate:
            return
        self._title = title
        self._slate_kind = kind
        try:
            await self._begin(RunMode.SLATE)
        except (StreamingError, OSError) as exc:
            log.error("session %s: no slate: %s", self.session_id, exc)

    async def stop_slate(self) -> None:
        """Take the slate off air: its last segment is finished and listed."""
        if self._mode is not RunMode.SLATE:
            return
        self._mode = None
        self._end_slate(signal.SIGTERM)
        await self._await_supervisor(self.config.stop_timeout)

    async def _begin(self, mode: RunMode) -> None:
        await self._await_supervisor(self.config.stop_timeout)
        self._mode = mode
        try:
            await self._start_run()
        except BaseException:
            self._mode = None
            raise
        self._supervisor = asyncio.create_task(
            self._supervise(), name=f"pipeline {self.session_id}"
        )

    def _end_slate(self, how: signal.Signals) -> None:
        if self._slate is not None:
            self._slate.send_signal(how)

    async def feed(self, tag: FlvTag) -> None:
        """Hand one tag to ffmpeg (dropped while ffmpeg restarts, held while ``holding``)."""
        held = self._held
        if held is not None:
            held.push(tag)
            return
        async with self._feed_lock:
            await self._write(tag)

    async def _write(self, tag: FlvTag) -> None:
        feed, process = self._feed, self._process
        if feed is None or self._mode is not RunMode.INGEST:
            return
        if process is not None and feed.changes_config(tag):
            await self._roll(process, "the source's parameter sets changed (picture size?)")
            process = self._process
        data = feed.push(tag)
        if not data or process is None:
            return
        if self._run_taken_in is None and self._clock is not None:
            self._run_taken_in = self._clock.taken_in(tag)
        if self._run_first_ms is None:
            self._run_first_ms = tag.timestamp
        self._run_media = max(self._run_media, (tag.timestamp - self._run_first_ms) / 1000)
        began = time.monotonic()
        try:
            await process.write(data, self.config.write_timeout)  # False: the supervisor restarts
        except TimeoutError:
            log.warning("session %s: ffmpeg stopped reading its input; killing it", self.session_id)
            process.kill()
        finally:
            self._blocked += time.monotonic() - began  # ffmpeg's input backing up: overload

    async def _roll(self, process: FfmpegProcess, why: str) -> None:
        """End the current run here and have the supervisor start the next at once (a new
        init segment after a discontinuity; not a restart). Called holding the feed lock, so
        the tags that follow wait for the new run."""
        rolled = asyncio.Event()
        self._rolling = (why, rolled)
        process.end_input()
        try:
            await asyncio.wait_for(rolled.wait(), self.config.stop_timeout)
        except TimeoutError:
            log.warning("session %s: ffmpeg did not finish its run; killing it", self.session_id)
            process.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rolled.wait(), self.config.stop_timeout)

    async def stop_ingest(self, *, end: bool) -> None:
        """The publisher is gone: let ffmpeg finish its last segment, then end if asked."""
        async with self._switching:
            if self._held is not None:
                self._held = None
                await self.stop_slate()
        if self._mode is not RunMode.INGEST:
            if end:
                self.end()
            return
        self._mode = None
        if self._process is not None:
            self._process.end_input()
        await self._await_supervisor(self.config.stop_timeout)
        if end:
            self.end()

    async def discard(self) -> None:
        """Kill the ingest run unfinished and end: its source needs another plan
        (``MediaPlane.replan``); the next pipeline of the session takes the following run."""
        async with self._feed_lock:
            self._held = None
            if self._mode is RunMode.INGEST:
                self._mode = None
                if self._process is not None:
                    self._process.kill()
                await self._await_supervisor(self.config.stop_timeout)
            self.end()

    def end(self) -> None:
        """Add EXT-X-ENDLIST to every playlist and wake every waiting request."""
        self._held = None
        if self._mode is RunMode.SLATE:
            self._mode = None
            self._end_slate(signal.SIGTERM)
        if not self.ended:
            self.ended = True
            for playlist in self.playlists.values():
                if not playlist.ended:
                    playlist.end()
        self.changed.notify()

    async def close(self) -> None:
        """Stop at once (shutdown): kill ffmpeg and wait for it, briefly."""
        self._mode = None
        self._held = None
        self._end_slate(signal.SIGKILL)
        if self._process is not None:
            self._process.kill()
        await self._await_supervisor(self.config.stop_timeout)

    async def _await_supervisor(self, within: float) -> None:
        task = self._supervisor
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), within)
        except TimeoutError:
            process = self._process
            if process is not None and process.pid is not None:
                log.warning("session %s: ffmpeg did not stop; killing it", self.session_id)
                process.kill()
            try:
                await asyncio.wait_for(asyncio.shield(task), within)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # --- runs ------------------------------------------------------------------------------

    async def _start_run(self) -> None:
        """Start ffmpeg for the current mode: FLV from the publisher, or the slate's MPEG-TS."""
        assert self.plan is not None
        mode = self._mode
        self.run += 1
        self._run_taken_in = None
        self._run_first_ms = None
        self._run_media = 0.0
        fmt = InputFormat.FLV if mode is RunMode.INGEST else InputFormat.MPEGTS
        outputs = carried(self.plan, self.dropped)
        self._carry(outputs)
        kind = RunKind.INGEST if mode is RunMode.INGEST else RunKind(self._slate_kind.value)
        entry = JournalEntry(self.run, kind, tuple(r.name for r in outputs))
        self._entry = entry
        try:
            await asyncio.to_thread(_append, self.directory / JOURNAL, journal_line(entry))
        except OSError as exc:
            log.warning("session %s: cannot note run %d: %s", self.session_id, self.run, exc)
        stdin: int = PIPE
        if mode is RunMode.SLATE:
            self._slate, stdin = await start_slate(
                self.directory,
                self.plan.video[0],
                self._slate_kind,
                self._title,
                ffmpeg=self.config.ffmpeg,
                font=self.config.slate_font,
                label=f"session {self.session_id} slate",
                look=self.config.slate_look,
            )
        languages = [r.language for r in self.plan.interpretations if r.language]
        pipes = VoicePipes(self.session_id, languages, self.voices)
        try:
            voices = pipes.open()
            args = live_args(
                self.plan,
                PipeInput(fmt),
                str(self.directory.resolve()),
                self.run,
                ffmpeg=self.config.ffmpeg,
                dropped=self.dropped,
                voices=voices,
            )
            process = await FfmpegProcess.start(
                args,
                label=f"session {self.session_id}",
                stdin=stdin,
                on_progress=self._progress,
                pass_fds=voices,
            )
        except BaseException:
            self._end_slate(signal.SIGKILL)
            await pipes.close()
            raise
        finally:
            if mode is RunMode.SLATE:
                os.close(stdin)
        pipes.start(lambda: self._run_media)
        self._voice_pipes = pipes
        self._process = process
        if self._feed is not None:
            self._feed.restart()
        log.info(
            "session %s: ffmpeg run %d (%s) started (pid %d)",
            self.session_id,
            self.run,
            mode.value if mode else "stopped",
            process.pid,
        )

    def _carry(self, outputs: Sequence[Rendition]) -> None:
        """Note which rendition each output stream of the new run carries; the overload watch
        gives the run time to start (ffmpeg writes nothing while it probes its input)."""
        assert self.plan is not None
        if self._load is None:
            self._load = LoadWatch(self.plan.renditions, self.config.overload)
        self._load.restart(time.monotonic())
        if all(stream == r.index for stream, r in enumerate(outputs)):
            return
        self._streams[self.run] = {stream: r.index for stream, r in enumerate(outputs)}
        for stream, rendition in enumerate(outputs):
            self.playlists[rendition.index].streams[self.run] = stream

    def _progress(self, block: dict[str, str]) -> None:
        """Keep the last ``-progress`` block (frame, fps, bitrate, speed) for ingest health;
        when ffmpeg cannot keep up with the ladder, drop a rendition (``overload``)."""
        self.progress = block
        if self._mode is not RunMode.INGEST or self.plan is None or self._load is None:
            return
        drop = self._load.progress(time.monotonic(), block, self._blocked)
        if drop is None or self._process is None:
            return
        name = self.plan.renditions[drop].name
        self.dropped.append(drop)
        log.warning(
            "session %s: ffmpeg cannot keep up with the ladder (speed %.2f); dropping %s",
            self.session_id,
            self._load.speed() or 0.0,
            name,
        )
        self._dropping = asyncio.create_task(self._drop(self._process, name))

    async def _drop(self, process: FfmpegProcess, name: str) -> None:
        """Roll over to a run without the dropped rendition (the source's viewers go on)."""
        async with self._feed_lock:
            if self._process is process and self._mode is RunMode.INGEST:
                await self._roll(process, f"overloaded: {name} dropped")

    async def _close_voices(self) -> None:
        """The run is over: stop writing its interpreters' voices."""
        pipes, self._voice_pipes = self._voice_pipes, None
        if pipes is not None:
            await pipes.close()

    async def _reap_slate(self) -> None:
        """The run is over: make sure its slate process is gone too (bounded)."""
        slate, self._slate = self._slate, None
        if slate is not None:
            await slate.finish(self.config.stop_timeout)

    async def _supervise(self) -> None:
        delay = self.config.restart_delay
        while True:
            process = self._process
            mode = self._mode
            assert process is not None
            assert self.plan is not None
            outputs = carried(self.plan, self.dropped)
            taken_in = (lambda: self._run_taken_in) if mode is RunMode.INGEST else (lambda: None)
            output = RunOutput(
                self.directory, self.run, [r.index for r in outputs], taken_in=taken_in
            )
            started = time.monotonic()
            watcher = asyncio.create_task(self._watch(output, process, mode, self._entry))
            try:
                code = await process.wait()
                self._end_slate(signal.SIGKILL)
                await process.drained()
                await watcher
            finally:
                watcher.cancel()
                await process.close()
                await self._reap_slate()
                await self._close_voices()
            rolling, self._rolling = self._rolling, None
            if self._mode is None or self._mode is not mode:
                log.info("session %s: ffmpeg run %d finished (%s)", self.session_id, self.run, code)
                if rolling is not None:
                    rolling[1].set()
                return
            if rolling is not None:
                log.info(
                    "session %s: ffmpeg run %d ended: %s; the next run starts",
                    self.session_id,
                    self.run,
                    rolling[0],
                )
                try:
                    begun = await self._next_run()
                finally:
                    rolling[1].set()
                if not begun:
                    return
                continue
            log.warning(
                "session %s: ffmpeg run %d exited with %s while on air; restarting. "
                "Last output: %s",
                self.session_id,
                self.run,
                code,
                " | ".join(process.tail) or "(none)",
            )
            if time.monotonic() - started > 10 * self.config.max_restart_delay:
                delay = self.config.restart_delay
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.max_restart_delay)
            if self._mode is not mode:
                return
            self.restarts += 1
            if not await self._next_run():
                return

    async def _next_run(self) -> bool:
        """Start the next run; False (and off air) when it cannot start."""
        try:
            await self._start_run()
        except (StreamingError, OSError) as exc:
            log.error("session %s: %s", self.session_id, exc)
            self._mode = None
            return False
        return True

    async def _watch(
        self,
        output: RunOutput,
        process: FfmpegProcess,
        mode: RunMode | None,
        entry: JournalEntry | None,
    ) -> None:
        """Poll the run's files until ffmpeg exited, then read them one last time; note the
        run's clock in the journal once it is known (the replay's captions are timed by it)."""
        while True:
            finished = process.returncode is not None
            try:
                updates = await asyncio.to_thread(output.scan)
            except (OSError, InvalidMedia) as exc:
                log.warning("session %s: cannot read ffmpeg's output: %s", self.session_id, exc)
                updates = []
            self._apply(updates, process, mode)
            if entry is not None and output.clock_ms is not None:
                await self._note_clock(entry, output.clock_ms)
                entry = None
            if finished:
                return
            await asyncio.sleep(self.config.poll_seconds)

    async def _note_clock(self, entry: JournalEntry, clock_ms: int) -> None:
        """Add the run's clock to its journal line (a second line for the run)."""
        line = journal_line(msgspec.structs.replace(entry, clock_ms=clock_ms))
        try:
            await asyncio.to_thread(_append, self.directory / JOURNAL, line)
        except OSError as exc:
            log.warning(
                "session %s: cannot note run %d's clock: %s", self.session_id, entry.run, exc
            )

    def _apply(
        self,
        updates: Sequence[Update],
        process: FfmpegProcess,
        mode: RunMode | None,
    ) -> None:
        woke = False
        for update in updates:
            if isinstance(update, InitFound):
                # The multivariant playlist describes the publisher's media, not the slate's.
                if mode is RunMode.INGEST or update.rendition not in self.tracks:
                    self.tracks[update.rendition] = update.track
                continue
            playlist = self.playlists[update.rendition]
            if playlist.ended:
                continue
            unlisted = playlist.unlisted
            try:
                added = apply_written(playlist, update.written)
            except StreamingError as exc:
                # The playlist cannot take this run's output any more: a new run starts clean.
                log.error(
                    "session %s: rendition %d: %s; restarting ffmpeg",
                    self.session_id,
                    update.rendition,
                    exc.message,
                )
                process.kill()
                continue
            if playlist.unlisted > unlisted:
                log.info(
                    "session %s: rendition %d: a fragment of %s is longer than PART-TARGET "
                    "(a late frame); the rest of that segment is offered whole",
                    self.session_id,
                    update.rendition,
                    update.written.name,
                )
            woke = woke or bool(added) or update.written.complete
        offered = self.offered
        if not self.ready.is_set() and offered is not None:
            indexes = [r.index for r in offered.renditions]
            if all(i in self.tracks and self._has_segment(i) for i in indexes):
                self.ready.set()
                woke = True
        if woke:
            self.changed.notify()

    def _has_segment(self, rendition: int) -> bool:
        return any(segment.complete for segment in self.playlists[rendition].segments)
