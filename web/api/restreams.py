"""The broadcast's operator controls: restream destinations and ingest health of a session.

Destination URLs hold stream keys: they are checked here (``restream.urls.check_push_url``,
and where they lead: ``restream.reach.check_destination``), stored as given, and answered only
masked (``restream.urls.mask_url``); push errors are scrubbed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from aiohttp import web

from config import Settings
from streaming.errors import InvalidArgument
from streaming.health import HealthBoard
from streaming.plane import MediaPlane
from streaming.restream.pusher import DestinationStatus, RestreamConfig, Target
from streaming.restream.reach import check_destination
from streaming.restream.restreamer import Load, Restreamer
from streaming.restream.urls import MAX_URL, Reach, check_push_url, mask_url, push_endpoint, scrub
from streaming.vocab import IngestOrigin, RestreamState, VideoCodec
from studio.models import Name
from studio.service import Programme
from studio.states import SessionState
from studio.store import Destination
from web.auth import principal
from web.keys import HEALTH, MEDIA, METRICS, PROGRAMME, RESTREAMER, SETTINGS
from web.metrics import IngestSample, MediaCollector
from web.views import Urls

PushUrl = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_URL,
        description="rtmp:// or rtmps:// URL of the destination, stream key included",
        examples=["rtmp://a.rtmp.youtube.com/live2/xxxx-xxxx-xxxx-xxxx"],
    ),
]


class RestreamInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /api/v1/sessions/{id}/restreams``."""

    name: Name
    url: PushUrl
    enabled: bool = True


class RestreamPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``PATCH /api/v1/sessions/{id}/restreams/{restream_id}``: only fields given
    change. ``enabled: true`` also restarts a push that gave up."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET


class RestreamStatusView(msgspec.Struct, kw_only=True):
    """Where the push to a destination is, on the node running the session's media."""

    state: RestreamState
    since: datetime | None
    attempts: int
    last_error: str | None
    bytes_sent: int
    dropped_frames: int


class RestreamView(msgspec.Struct, kw_only=True):
    """A restream destination (its stream key masked)."""

    id: str
    session_id: str
    name: str
    url: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    status: RestreamStatusView


def _status_view(destination: Destination, status: DestinationStatus | None) -> RestreamStatusView:
    if status is None:
        return RestreamStatusView(
            state=RestreamState.IDLE,
            since=None,
            attempts=0,
            last_error=None,
            bytes_sent=0,
            dropped_frames=0,
        )
    error = status.last_error
    return RestreamStatusView(
        state=status.state,
        since=status.since,
        attempts=status.attempts,
        last_error=None if error is None else scrub(error, destination.url),
        bytes_sent=status.bytes_sent,
        dropped_frames=status.dropped_frames,
    )


def _view(request: web.Request, destination: Destination) -> RestreamView:
    status = request.app[RESTREAMER].status(destination.id)
    return RestreamView(
        id=destination.id,
        session_id=destination.session_id,
        name=destination.name,
        url=mask_url(destination.url),
        enabled=destination.enabled,
        created_at=destination.created_at,
        updated_at=destination.updated_at,
        status=_status_view(destination, status),
    )


def _session_id(request: web.Request) -> str:
    return request.match_info["session_id"]


async def list_restreams(request: web.Request) -> list[RestreamView] | web.StreamResponse:
    """A session's restream destinations with the status of each push."""
    who = await principal(request)
    _, found = await request.app[PROGRAMME].list_destinations(who, _session_id(request))
    return [_view(request, d) for d in found]


async def add_restream(
    request: web.Request, body: RestreamInput
) -> RestreamView | web.StreamResponse:
    """Add a destination; while the session is live the push starts at the next keyframe."""
    url = check_push_url(body.url)  # InvalidArgument: 422 (web.errors)
    checked = await check_destination(url, request.app[RESTREAMER].config.reach)
    if checked.refusal is not None:
        raise InvalidArgument("url", checked.refusal)
    who = await principal(request)
    session_id = _session_id(request)
    destination = await request.app[PROGRAMME].add_destination(
        who, session_id, name=body.name, url=url, enabled=body.enabled
    )
    await request.app[RESTREAMER].sync(session_id)
    return _view(request, destination)


async def update_restream(
    request: web.Request, body: RestreamPatch
) -> RestreamView | web.StreamResponse:
    """Rename a destination or switch its push on or off."""
    who = await principal(request)
    session_id = _session_id(request)
    restream_id = request.match_info["restream_id"]
    enabled = None if isinstance(body.enabled, msgspec.UnsetType) else body.enabled
    destination = await request.app[PROGRAMME].update_destination(
        who,
        session_id,
        restream_id,
        name=None if isinstance(body.name, msgspec.UnsetType) else body.name,
        enabled=enabled,
    )
    await request.app[RESTREAMER].sync(session_id, rearm={restream_id} if enabled else ())
    return _view(request, destination)


async def remove_restream(request: web.Request) -> web.StreamResponse | None:
    """Remove a destination; a push to it stops."""
    who = await principal(request)
    session_id = _session_id(request)
    restream_id = request.match_info["restream_id"]
    await request.app[PROGRAMME].remove_destination(who, session_id, restream_id)
    restreamer = request.app[RESTREAMER]
    await restreamer.sync(session_id)
    restreamer.forget(restream_id)
    return None


# --- ingest health -------------------------------------------------------------------------------


class SourceView(msgspec.Struct, kw_only=True):
    """What the publisher sends, as probed when it connected."""

    video_codec: VideoCodec
    width: int
    height: int
    fps: float
    has_audio: bool
    video_bitrate: int | None
    keyframe_interval: float | None


class MeasuredView(msgspec.Struct, kw_only=True):
    """Measured over the last few seconds (null until enough has arrived); the picture size is
    the latest the publisher configured (a browser changes it as it goes)."""

    width: int | None
    height: int | None
    bitrate: int | None
    video_bitrate: int | None
    audio_bitrate: int | None
    fps: float | None
    seconds_since_keyframe: float | None
    keyframe_interval: float | None
    frames: int
    bytes: int


class PipelineView(msgspec.Struct, kw_only=True):
    """The session's ffmpeg (ladder and LL-HLS), from its ``-progress`` output."""

    running: bool
    restarts: int
    slate_on: bool
    fps: float | None
    speed: str | None
    dropped_frames: int
    # Media seconds written per wall second over the last seconds, and the renditions dropped
    # because that fell below 0.9 (``streaming.overload``): the source always stays.
    ladder_speed: float | None = None
    dropped_renditions: list[str] = msgspec.field(default_factory=list)


class HealthView(msgspec.Struct, kw_only=True):
    """Ingest health of a session on the node that runs its media."""

    session_id: str
    state: SessionState
    connected: bool
    origin: IngestOrigin | None
    peer: str | None
    connected_since: datetime | None
    source: SourceView | None
    measured: MeasuredView | None
    pipeline: PipelineView | None
    dropped_frames: int
    restream_dropped_frames: int


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


async def health(request: web.Request) -> HealthView | web.StreamResponse:
    """Codec, resolution, frame rate, bit rate, dropped frames and the time since the last
    keyframe of the session's ingest, plus where it comes from and since when."""
    session = await request.app[PROGRAMME].get_session(_session_id(request))
    request.app[PROGRAMME].check_health_access(await principal(request), session)
    board, plane = request.app[HEALTH], request.app[MEDIA]
    live = board.get(session.id)
    source = measured = pipeline_view = None
    if live is not None:
        s = live.source
        source = SourceView(
            video_codec=s.video_codec,
            width=s.width,
            height=s.height,
            fps=s.fps,
            has_audio=s.has_audio,
            video_bitrate=s.video_bitrate,
            keyframe_interval=s.keyframe_interval,
        )
        m = live.meter.measure(board.clock())
        measured = MeasuredView(
            width=m.size[0] if m.size else None,
            height=m.size[1] if m.size else None,
            bitrate=m.bitrate,
            video_bitrate=m.video_bitrate,
            audio_bitrate=m.audio_bitrate,
            fps=m.fps,
            seconds_since_keyframe=m.seconds_since_keyframe,
            keyframe_interval=m.keyframe_interval or s.keyframe_interval,
            frames=m.frames,
            bytes=m.bytes,
        )
    pipeline = plane.pipeline(session.id)
    pipeline_dropped = 0
    if pipeline is not None:
        progress = pipeline.progress
        pipeline_dropped = int(_number(progress.get("drop_frames")) or 0)
        pipeline_view = PipelineView(
            running=pipeline.pid is not None,
            restarts=pipeline.restarts,
            slate_on=pipeline.slate_on,
            fps=_number(progress.get("fps")),
            speed=progress.get("speed", "").strip() or None,
            dropped_frames=pipeline_dropped,
            ladder_speed=pipeline.ladder_speed,
            dropped_renditions=pipeline.dropped_names,
        )
    restream_dropped = request.app[RESTREAMER].dropped_frames(session.id)
    return HealthView(
        session_id=session.id,
        state=session.state,
        connected=live is not None,
        origin=live.origin if live is not None else None,
        peer=live.peer if live is not None else None,
        connected_since=live.connected_since if live is not None else None,
        source=source,
        measured=measured,
        pipeline=pipeline_view,
        dropped_frames=pipeline_dropped + restream_dropped,
        restream_dropped_frames=restream_dropped,
    )


# --- wiring --------------------------------------------------------------------------------------


def restream_loader(programme: Programme) -> Load:
    """Whether a session is live, and its enabled destinations, from the programme."""

    async def load(session_id: str) -> tuple[bool, list[Target]]:
        live, found = await programme.pushes_due(session_id)
        return live, [Target(d.id, d.url) for d in found]

    return load


WILDCARDS = ("", "0.0.0.0", "::")  # noqa: S104 (compared, not bound)


def reach(settings: Settings) -> Reach:
    """Where pushes may connect: the allowed internal hosts, and this node's RTMP ingest
    (where it listens, and the address operators are shown) as the place they never may."""
    media = settings.media
    ingest = {push_endpoint(Urls(settings).ingest("").rtmp)}
    if media.rtmp_host in WILDCARDS:
        ingest |= {(host, media.rtmp_port) for host in ("127.0.0.1", "::1", "localhost")}
    else:
        ingest.add((media.rtmp_host, media.rtmp_port))
    return Reach.allowing(media.restream_allowed_hosts, ingest)


def media_taps(app: web.Application, plane: MediaPlane) -> Restreamer:
    """Give the plane's publishes to the restreamer and the health board (``app[RESTREAMER]``,
    ``app[HEALTH]``), follow the programme, export gauges; the caller starts and closes it."""
    programme = app[PROGRAMME]
    config = RestreamConfig(ffmpeg=plane.config.pipeline.ffmpeg, reach=reach(app[SETTINGS]))
    restreamer = Restreamer(restream_loader(programme), config)

    def peer(session_id: str) -> tuple[IngestOrigin, str | None]:
        publish = plane.publisher(session_id)
        if publish is None:
            return IngestOrigin.RTMP, None
        return publish.origin, publish.peer

    board = HealthBoard(peer)
    plane.add_tap(board)
    plane.add_tap(restreamer)
    programme.on_session_change(restreamer.session_changed)
    app[RESTREAMER] = restreamer
    app[HEALTH] = board

    def ingests() -> list[IngestSample]:
        now = board.clock()
        samples: list[IngestSample] = []
        for live in board.sessions():
            m = live.meter.measure(now)
            samples.append((live.session_id, m.bitrate, m.fps, m.seconds_since_keyframe))
        return samples

    def pushes() -> dict[str, int]:
        return {state.value: count for state, count in restreamer.counts().items()}

    def dropped() -> list[tuple[str, int]]:
        found = [plane.pipeline(live.session_id) for live in board.sessions()]
        return [(p.session_id, len(p.dropped)) for p in found if p is not None]

    app[METRICS].registry.register(MediaCollector(ingests, pushes, dropped))
    return restreamer
