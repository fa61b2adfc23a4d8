"""The media plane of one node: stream keys in, session pipelines out, what HLS serves.

``MediaPlane`` admits RTMP and WHIP publishes (``Publish``: probe, then the session's
``SessionPipeline`` and the media taps), follows the programme's session changes and shuts
everything down. See ``docs/architecture.md`` ("Publish and unpublish").
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from config.settings import MediaSettings
from streaming import names
from streaming.clipper import ClipGate, Clipper
from streaming.errors import (
    IngestDenied,
    InvalidMedia,
    PublisherPresent,
    SessionOver,
    WrongStreamKey,
)
from streaming.flv import FlvTag, IngestClock, IngestProbe, KeyframeCheck
from streaming.handover import RunSource, read_if_there
from streaming.interpretation import InterpretationDesk
from streaming.ladder import DEFAULT_LADDER, LadderSettings, Rung, SourceInfo, plan_ladder
from streaming.onair import on_air
from streaming.overload import OverloadSettings
from streaming.pipeline.supervisor import Notifier, PipelineConfig, SessionPipeline
from streaming.recording import Recorder, RecordingFence, RecordingGate
from streaming.relay import RelayHub
from streaming.rtmp import RtmpServer
from streaming.vocab import IngestOrigin, OnAir, VideoCodec
from streaming.vod import CLAIMS, parse_claims
from streaming.whip.ingest import WhipIngest
from streaming.whip.interpreter import InterpreterIngest
from studio.errors import StudioError
from studio.models import Session
from studio.states import SessionState

log = logging.getLogger(__name__)

OVER = frozenset({SessionState.ENDED, SessionState.REPLAY, SessionState.CANCELLED})
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_RUN = re.compile(r"r([0-9]{4,6})[_.]")
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
# How late a WebRTC publisher's frame may come and still fit its part: two frames at 30 fps.
WEBRTC_FRAME_JITTER = 2 / 30
# A source going straight on air is decided this long after its first keyframe (its keyframe
# interval assumed, checked at its second): ffmpeg starts while the first GOP comes in.
EARLY_DECISION_SECONDS = 0.2


class SessionGate(RecordingGate, ClipGate, Protocol):
    """What the media plane asks of the programme (``studio.service.Programme``)."""

    async def session_for_stream_key(self, key: str) -> Session | None:
        """The session a stream key opens, if any."""

    async def ingest_up(self, session_id: str) -> Session:
        """A publisher connected."""

    async def ingest_down(self, session_id: str) -> Session:
        """The publisher is gone."""


@dataclass(frozen=True)
class PlaneConfig:
    """Where the media goes and how long publishers get (from the ``[media]`` settings)."""

    data_dir: Path
    pipeline: PipelineConfig
    rtmp_host: str = "127.0.0.1"
    rtmp_port: int = 1935
    publish_timeout: float = 10.0
    idle_timeout: float = 15.0
    ice_servers: tuple[str, ...] = ()


def next_run(directory: Path) -> int:
    """One more than the highest run number of the files in ``directory`` (1 when none), and
    at least the first run of the latest claim noted there (``handover.claim_first_run``)."""
    try:
        found = [int(m.group(1)) for p in directory.iterdir() if (m := _RUN.match(p.name))]
    except FileNotFoundError:
        return 1
    claimed = [claim.from_run for claim in parse_claims(read_if_there(directory / CLAIMS))]
    return min(max([max(found, default=0) + 1, *claimed]), names.MAX_RUN)


class MediaTap(Protocol):
    """Something else that takes a publish's media as it arrives (restream, WebRTC relay).

    ``tag`` must not block: a tap queues what it cannot handle at once, and drops (never
    waits) when it falls behind. ``close`` is called once when the publish ends.
    """

    def tag(self, tag: FlvTag) -> None:
        """One audio, video or script tag, in the order the publisher sent them."""

    async def close(self) -> None:
        """The publish is over."""


class Ownership(RecordingFence, Protocol):
    """Which node holds a session's media (``streaming.owners.MediaOwners``): a publish
    claims it before its first run, the recorder builds under the epoch of the last claim."""

    async def claim(self, session_id: str, directory: Path) -> int | None:
        """Make this node the session's media owner under a new epoch (None: not recorded)."""


class TapFactory(Protocol):
    """Makes the tap for a publish whose source is known, or None to take nothing."""

    def __call__(
        self, session: Session, source: SourceInfo, first: Sequence[FlvTag]
    ) -> MediaTap | None:
        """``first`` are the tags seen while probing (configurations first)."""


class Publish:
    """One accepted publish: probes the source, then feeds the session's pipeline."""

    def __init__(
        self,
        plane: MediaPlane,
        session: Session,
        peer: str,
        origin: IngestOrigin = IngestOrigin.RTMP,
    ) -> None:
        self.plane = plane
        self.origin = origin
        self.session = session
        self.session_id = session.id
        self.title = session.title
        self.state = session.state
        self.peer = peer
        self._taps: list[MediaTap] = []
        settings = plane.config.pipeline.ladder
        self._probe = IngestProbe(
            max_gop=settings.max_passthrough_gop,
            assumed_gop=None if origin is IngestOrigin.WHIP else settings.segment_seconds,
        )
        self._source: SourceInfo | None = None
        self._check: KeyframeCheck | None = None  # an early decision's keyframe interval to come
        self._since: list[FlvTag] = []  # meanwhile, the tags from the first keyframe on
        self._clock: IngestClock | None = None  # when its tags were taken in (the first's arrival)
        self._deadline = time.monotonic() + plane.config.publish_timeout
        self._pipeline: SessionPipeline | None = None
        self._abort: Callable[[], None] | None = None
        self._closed = False
        self.moved = False  # another node claimed the session's media: this publish is dropped

    def set_abort(self, abort: Callable[[], None]) -> None:
        """Give the publish a way to drop its connection."""
        self._abort = abort

    def abort(self) -> None:
        """Drop the publisher's connection (its ``close`` follows)."""
        if self._abort is not None:
            self._abort()

    def metadata(self, values: Mapping[str, object], tag: FlvTag) -> None:
        """``onMetaData``: the probe reads it; the feed replays it to each ffmpeg run."""
        self._probe.set_metadata(values)
        if self._pipeline is None:
            self._probe.buffered.append(tag)

    async def tag(self, tag: FlvTag) -> None:
        """An audio or video tag: probe it until the source is known, then feed it."""
        if self._closed:
            return  # a late tag of a publish that was taken over or ended
        if self._pipeline is not None:
            for tap in self._taps:
                tap.tag(tag)
            if self._check is not None and await self._replanned(tag):
                return
            await self._pipeline.feed(tag)
            return
        if time.monotonic() > self._deadline:
            raise InvalidMedia("the source was not recognised in time (two keyframes needed)")
        if self._clock is None:
            self._clock = IngestClock(datetime.now(UTC), tag.timestamp)
            # Decided early when it goes straight on air (the programme has heard ingest_up by
            # now: an auto-starting session is live), or is WHIP (its keyframes come on request).
            held = on_air(self.state, True, slate=self.plane.slates) is OnAir.STARTING_SOON
            if not held or self.origin is IngestOrigin.WHIP:
                self._probe.early = EARLY_DECISION_SECONDS
        source = self._probe.add(tag)
        if source is not None:
            if self.origin is IngestOrigin.WHIP:
                # A WebRTC publisher sends keyframes when asked (a PLI every segment), so the
                # gap between its first two says nothing about the segments to come. Its
                # frames come as its encoder makes them, at a rate it changes as it goes:
                # parts are cut by time with room for late frames (``ladder``).
                source = dataclasses.replace(
                    source, keyframe_interval=None, frame_jitter=WEBRTC_FRAME_JITTER
                )
            first = self._probe.buffered
            keyframe = self._probe.first_keyframe
            if (
                self._probe.provisional
                and keyframe is not None
                and self.origin is IngestOrigin.RTMP
            ):
                self._check = KeyframeCheck(keyframe, self._probe.max_gop)
                self._since = list(first)
            self._source = source
            await self.plane.claim(self.session_id)
            self._pipeline = await self.plane.attach(self.session_id, source, first, self._clock)
            self._probe.buffered = []
            self._taps = self.plane.open_taps(self.session, source, first)

    async def _replanned(self, tag: FlvTag) -> bool:
        """While an early decision waits for the source's second keyframe, keep the tags; once
        the interval is known and calls for another plan (segments of another length, a
        transcoded source), start the pipeline over with it. True when ``tag`` went there."""
        assert self._check is not None
        assert self._source is not None
        interval = self._check.add(tag)
        if interval is None:
            self._since.append(tag)
            return False
        since, self._since, self._check = self._since, [], None
        measured = dataclasses.replace(self._source, keyframe_interval=interval)
        ladder = self.plane.config.pipeline.ladder
        if plan_ladder(measured, ladder) == plan_ladder(self._source, ladder):
            return False
        log.info(
            "session %s: keyframes every %.2f s, not %.2f s: the media starts over",
            self.session_id,
            interval,
            self._source.keyframe_interval or 0.0,
        )
        self._source = measured
        self._pipeline = await self.plane.replan(
            self.session_id, measured, [*since, tag], self._clock
        )
        return True

    async def close(self) -> None:
        """The publisher is gone: tell the programme, stop ffmpeg; then end the playlists, or,
        while the session is live, put the slate on air until the publisher is back."""
        if self._closed:
            return
        self._closed = True
        self.plane.release(self.session_id)
        taps, self._taps = self._taps, []
        for tap in taps:
            try:
                await tap.close()
            except Exception:  # a tap's failure must not keep the publish open
                log.exception("session %s: closing a media tap failed", self.session_id)
        state: SessionState | None = None
        if not self.moved:  # else its publisher is on another node now: the session is not down
            try:
                state = (await self.plane.gate.ingest_down(self.session_id)).state
            except StudioError as exc:
                log.info("session %s: ingest_down not applied: %s", self.session_id, exc.message)
        if self._pipeline is not None:
            after = OnAir.OFF if state is None else on_air(state, False, slate=self.plane.slates)
            await self._pipeline.stop_ingest(end=after is OnAir.OFF)
            if after is OnAir.BE_RIGHT_BACK and self.plane.publishing(self.session_id) is False:
                await self._pipeline.start_slate(self.title)


class MediaPlane:
    """Every session's media on this node (see the module docstring)."""

    def __init__(self, gate: SessionGate, config: PlaneConfig) -> None:
        self.gate = gate
        self.config = config
        self._pipelines: dict[str, SessionPipeline] = {}
        self._publishers: dict[str, Publish] = {}
        self._rtmp: RtmpServer | None = None
        self._tap_factories: list[TapFactory] = []
        self.relays = RelayHub()
        self.whip = WhipIngest(
            self,
            segment_seconds=config.pipeline.ladder.segment_seconds,
            preset=config.pipeline.ladder.preset,
            connect_timeout=config.publish_timeout,
            ice_servers=config.ice_servers,
        )
        # Interpreters' voices, per session and language: the pipeline reads them with
        # ``interpretation.take``; interpreters publish them through ``interpreters``.
        self.interpretation = InterpretationDesk()
        self.interpreters = InterpreterIngest(
            self.interpretation,
            connect_timeout=config.publish_timeout,
            ice_servers=config.ice_servers,
        )
        self.attached = Notifier()
        self.recordings = Recorder(gate, config.data_dir, config.pipeline.ffmpeg)
        self.clips = Clipper(gate, self.recordings, preset=config.pipeline.ladder.preset)
        self.ownership: Ownership | None = None

    def set_ownership(self, ownership: Ownership, runs: RunSource | None = None) -> None:
        """Claim each session's media through ``ownership`` before its first run, and build
        recordings under its fence with the runs of earlier owners fetched through ``runs``."""
        self.ownership = ownership
        self.recordings.fence = ownership
        self.recordings.runs = runs

    async def claim(self, session_id: str) -> None:
        """A publish is about to start the session's media here: claim it (a new epoch)."""
        if self.ownership is not None:
            await self.ownership.claim(session_id, self.config.data_dir / session_id)

    async def media_moved(self, session_id: str) -> None:
        """Another node claimed the session's media: drop this node's publisher (the session
        is not told its ingest is down) and end its playlists; this node writes no more of it."""
        publish = self._publishers.get(session_id)
        if publish is not None:
            publish.moved = True
            publish.abort()
            await publish.close()
        pipeline = self._pipelines.get(session_id)
        if pipeline is not None:
            pipeline.end()

    async def has_files(self, session_id: str) -> bool:
        """Whether this node's media directory holds files of the session."""
        if not _SESSION_ID.fullmatch(session_id):
            return False
        return await asyncio.to_thread((self.config.data_dir / session_id).is_dir)

    def add_tap(self, factory: TapFactory) -> None:
        """Give every later publish's media to the taps ``factory`` makes."""
        self._tap_factories.append(factory)

    def open_taps(
        self, session: Session, source: SourceInfo, first: Sequence[FlvTag]
    ) -> list[MediaTap]:
        """The taps of a publish whose source is known (a factory that fails is skipped)."""
        taps = []
        for factory in self._tap_factories:
            try:
                tap = factory(session, source, first)
            except Exception:  # one broken tap must not refuse the publish
                log.exception("session %s: a media tap failed to open", session.id)
                continue
            if tap is not None:
                taps.append(tap)
        return taps

    @property
    def rtmp_port(self) -> int | None:
        """The port the RTMP listener is bound to, or None."""
        return self._rtmp.port if self._rtmp is not None else None

    def pipeline(self, session_id: str) -> SessionPipeline | None:
        """The session's media, if it ever had an ingest on this node."""
        return self._pipelines.get(session_id)

    @property
    def slates(self) -> bool:
        """Whether slates are turned on (``[media] slate``)."""
        return self.config.pipeline.slate

    def publishing(self, session_id: str) -> bool:
        """Whether a publisher is connected for the session."""
        return session_id in self._publishers

    def release(self, session_id: str) -> None:
        """The session's publish is over: forget it (``Publish.close``)."""
        self._publishers.pop(session_id, None)

    def publisher(self, session_id: str) -> Publish | None:
        """The session's connected publish (its ``peer``), if any."""
        return self._publishers.get(session_id)

    async def start(self) -> None:
        """Start the RTMP listener (an address already in use is logged, not fatal) and the
        builds of recordings left over from before a restart."""
        await self.recordings.recover()
        await self.clips.recover()
        server = RtmpServer(
            self,
            host=self.config.rtmp_host,
            port=self.config.rtmp_port,
            publish_timeout=self.config.publish_timeout,
            idle_timeout=self.config.idle_timeout,
        )
        try:
            await server.start()
        except OSError as exc:
            log.error(
                "RTMP ingest disabled: cannot listen on %s:%s: %s",
                self.config.rtmp_host,
                self.config.rtmp_port,
                exc,
            )
            return
        self._rtmp = server

    async def close(self) -> None:
        """Drop every publisher and kill every ffmpeg (bounded waits)."""
        await self.whip.close()
        await self.interpreters.close()
        if self._rtmp is not None:
            await self._rtmp.close()
            self._rtmp = None
        pipelines = list(self._pipelines.values())
        await asyncio.gather(*(p.close() for p in pipelines), return_exceptions=True)
        await self.recordings.close()
        await self.clips.close()

    # --- the RTMP listener's side ------------------------------------------------------------

    async def open_publish(self, key: str, peer: str) -> Publish:
        """Accept a publish for the session ``key`` opens, or raise ``IngestDenied``."""
        try:
            session = await self.gate.session_for_stream_key(key)
        except StudioError as exc:
            raise IngestDenied(f"cannot check the stream key now ({exc.message})") from None
        if session is None:
            raise WrongStreamKey("unknown stream key")
        return await self._admit(session, peer, IngestOrigin.RTMP)

    # --- the WHIP ingest's side (``streaming.whip.ingest.WhipPlane``) --------------------------

    async def check_stream_key(self, session_id: str, key: str) -> Session:
        """The session when ``key`` opens it, else ``WrongStreamKey`` (no state is checked)."""
        session = await self.gate.session_for_stream_key(key) if key else None
        if session is None or session.id != session_id:
            raise WrongStreamKey("the stream key does not open this session")
        return session

    async def open_session_publish(
        self,
        session_id: str,
        key: str,
        peer: str,
        *,
        takeover: bool = False,
        origin: IngestOrigin = IngestOrigin.WHIP,
    ) -> Publish:
        """Accept a publish of ``session_id`` with its stream key, or raise ``IngestDenied``.

        With ``takeover`` a present publisher is dropped (and its publish closed) first.
        """
        session = await self.check_stream_key(session_id, key)
        hint = " (send X-Torget-Takeover: 1 to replace it)"
        return await self._admit(session, peer, origin, takeover=takeover, hint=hint)

    async def _admit(
        self,
        session: Session,
        peer: str,
        origin: IngestOrigin,
        *,
        takeover: bool = False,
        hint: str = "",
    ) -> Publish:
        """The publish of a session whose key was presented, or ``IngestDenied``: the session
        is over, or has a publisher (``hint`` says how to take over)."""
        if session.state in OVER:
            raise SessionOver(f"session {session.id} is {session.state.value}")
        if not _SESSION_ID.fullmatch(session.id):
            raise WrongStreamKey("the session id cannot name a media directory")
        present = self._publishers.get(session.id)
        if present is not None:
            if not takeover:
                raise PublisherPresent(f"session {session.id} already has a publisher{hint}")
            log.info("session %s: publisher %s taken over by %s", session.id, present.peer, peer)
            present.abort()
            await present.close()
            if session.id in self._publishers:
                raise PublisherPresent(f"session {session.id} already has a publisher")
        publish = Publish(self, session, peer, origin)
        self._publishers[session.id] = publish
        try:
            await self.gate.ingest_up(session.id)
        except StudioError as exc:
            self._publishers.pop(session.id, None)
            raise SessionOver(f"session {session.id}: {exc.message}") from None
        return publish

    async def attach(
        self,
        session_id: str,
        source: SourceInfo,
        tags: Sequence[FlvTag],
        clock: IngestClock | None = None,
    ) -> SessionPipeline:
        """Start (or continue) the session's pipeline for a newly probed source (``clock``:
        when its tags were taken in)."""
        pipeline = self._pipelines.get(session_id)
        try:
            if pipeline is None or not pipeline.compatible(source):
                if pipeline is not None:
                    pipeline.end()
                directory = self.config.data_dir / session_id
                first_run = await asyncio.to_thread(next_run, directory)
                pipeline = SessionPipeline(
                    session_id,
                    directory,
                    self.config.pipeline,
                    first_run=first_run,
                    voices=self.interpretation,
                )
                self._pipelines[session_id] = pipeline
            publish = self._publishers.get(session_id)
            state = SessionState.LIVE if publish is None else publish.state
            if on_air(state, True, slate=self.slates) is OnAir.STARTING_SOON:
                title = "" if publish is None else publish.title
                await pipeline.hold(source, tags, title, clock)
            else:
                await pipeline.start_ingest(source, tags, clock)
        except OSError as exc:
            raise InvalidMedia(f"cannot write the session's media: {exc}") from exc
        self.attached.notify()
        keyframes = (
            f"keyframes every {source.keyframe_interval:.2f} s"
            if source.keyframe_interval
            else "keyframes on request"
        )
        log.info(
            "session %s: source %dx%d %.3g fps, %s, %s",
            session_id,
            source.width,
            source.height,
            source.fps,
            keyframes,
            "with audio" if source.has_audio else "no audio",
        )
        return pipeline

    async def replan(
        self,
        session_id: str,
        source: SourceInfo,
        tags: Sequence[FlvTag],
        clock: IngestClock | None = None,
    ) -> SessionPipeline:
        """An early-decided source turned out to need another plan: drop the pipeline's
        unfinished run (no segment of it was complete) and start over with ``source``."""
        pipeline = self._pipelines.get(session_id)
        if pipeline is not None:
            await pipeline.discard()
        return await self.attach(session_id, source, tags, clock)

    # --- the programme's side ----------------------------------------------------------------

    async def session_changed(self, session: Session) -> None:
        """A session's record changed: going live puts the held ingest on air (``on_air``);
        when it is over, drop its publisher, end its playlists, build its recording."""
        publish = self._publishers.get(session.id)
        if publish is not None:
            publish.state = session.state
        pipeline = self._pipelines.get(session.id)
        if session.state not in OVER:
            going_live = on_air(session.state, True, slate=self.slates) is OnAir.INGEST
            if pipeline is not None and pipeline.holding and going_live:
                await pipeline.go_live()
            return
        if publish is not None:
            publish.abort()
        await self.interpreters.close_session(session.id)
        if pipeline is not None and not pipeline.ingest_up:
            pipeline.end()
        if session.state is SessionState.ENDED and not self.recordings.busy(session.id):
            self.recordings.build(session.id, lambda: self.settle(session.id))

    async def settle(self, session_id: str, within: float = 30.0) -> None:
        """Wait (bounded) until the session has no publisher and no ffmpeg running."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            pipeline = self._pipelines.get(session_id)
            quiet = pipeline is None or (pipeline.pid is None and not pipeline.slate_on)
            if quiet and session_id not in self._publishers:
                return
            await asyncio.sleep(0.1)
        log.warning("session %s: media still running; building the recording anyway", session_id)

    async def wait_ready(self, session_id: str, within: float) -> SessionPipeline | None:
        """The session's pipeline once it has media to list, waiting up to ``within`` s."""
        deadline = time.monotonic() + within
        while True:
            pipeline = self._pipelines.get(session_id)
            if pipeline is not None and pipeline.ready.is_set():
                return pipeline
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (pipeline is None and session_id not in self._publishers):
                return None
            if pipeline is None:
                await self.attached.wait(remaining)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pipeline.ready.wait(), remaining)


# --- configuration -----------------------------------------------------------------------------


def find_ffmpeg(configured: str) -> str:
    """The ffmpeg to run: the configured one, else PATH's, else the one imageio-ffmpeg ships."""
    if configured:
        return configured
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg  # type: ignore[import-untyped]

        exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return "ffmpeg"
    return exe


def rung_for(height: int) -> Rung:
    """The ladder rung of ``height``: the default ladder's, or its bit rate scaled by area."""
    for rung in DEFAULT_LADDER:
        if rung.height == height:
            return rung
    bitrate = round(2_800_000 * (height / 720) ** 2, -3)
    profile = "high" if height >= 720 else "main"
    return Rung(f"{height}p", height, int(min(max(bitrate, 100_000), 50_000_000)), profile)


def plane_config(media: MediaSettings, interpretations: Sequence[str] = ()) -> PlaneConfig:
    """The plane's configuration from the ``[media]`` settings and the interpretation
    languages (an audio rendition each); bad ladder values raise ``InvalidArgument`` here, at
    start-up, rather than at the first publish."""
    ladder = LadderSettings(
        rungs=tuple(rung_for(h) for h in sorted(set(media.ladder_heights), reverse=True)),
        segment_seconds=media.segment_seconds,
        part_seconds=media.part_seconds,
        max_passthrough_gop=media.max_passthrough_gop,
        audio_bitrate=media.audio_bitrate,
        preset=media.preset,
        interpretation_languages=tuple(interpretations),
    )
    plan_ladder(SourceInfo(7680, 4320, 30.0, VideoCodec.H264), ladder)  # validates the settings
    return PlaneConfig(
        data_dir=Path(media.data_dir),
        pipeline=PipelineConfig(
            ffmpeg=find_ffmpeg(media.ffmpeg),
            ladder=ladder,
            window_seconds=media.window_seconds,
            poll_seconds=media.poll_ms / 1000,
            overload=OverloadSettings(min_speed=media.overload_min_speed),
            slate=media.slate,
            slate_font=media.slate_font or (DEJAVU if Path(DEJAVU).is_file() else None),
        ),
        rtmp_host=media.rtmp_host,
        rtmp_port=media.rtmp_port,
        publish_timeout=media.publish_timeout_seconds,
        idle_timeout=media.idle_timeout_seconds,
        ice_servers=tuple(media.webrtc_ice_servers),
    )
