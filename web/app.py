"""Build the aiohttp application: resources wired with ``cleanup_ctx`` and typed ``AppKey``s.

The store is opened and closed here and handed to the parts that take it; everything else
goes through ``Programme`` (docs/architecture.md, "How data flows").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from config import Settings
from realtime.actions import Actions
from realtime.engine import Engine, MemoryEngine
from realtime.errors import RealtimeError
from realtime.hub import EVENT_ROOM, Hub
from realtime.playback_viewers import PlaybackViewers
from streaming.channel_feed import Channels
from streaming.owners import MediaOwners
from streaming.ownership import Echoes
from streaming.plane import OVER, MediaPlane, plane_config
from streaming.relay import RelayOptions
from streaming.rtmp_relay import RtmpRelayTaps
from streaming.whep import WhepLimits, WhepManager
from studio.captions.cues import Cue
from studio.channel import ChannelNow, channel_changed
from studio.errors import StudioError
from studio.interaction.facts import (
    CaptionPosted,
    ChannelSwitched,
    SessionChanged,
    SignInEnded,
    encode_fact,
)
from studio.interaction.ratelimit import Rate, RateLimiter
from studio.models import Session
from studio.service import Clock, Programme, SystemClock
from studio.signing import Signer
from studio.states import SessionState
from studio.store import Store
from web import openapi
from web.api import restreams
from web.errors import error_middleware
from web.keys import (
    ACTIONS,
    CHANNELS,
    CODE_ATTEMPTS,
    ECHOES,
    HUB,
    MEDIA,
    MEDIA_PROXY,
    METRICS,
    OPENAPI,
    PLAYBACK,
    PROGRAMME,
    SETTINGS,
    SIGNER,
    URLS,
    WHEP,
)
from web.media.interpret import InterpretationNotices
from web.media.proxy import MediaProxy
from web.media.runs import NodeRuns
from web.metrics import Metrics
from web.routes import ROUTES, add_routes
from web.security import security_headers
from web.views import Urls

log = logging.getLogger(__name__)

Announce = Callable[[str], None]
STORE: web.AppKey[Store] = web.AppKey("store", Store)  # for the parts that take it as is


def create_app(
    settings: Settings, *, clock: Clock | None = None, announce: Announce | None = None
) -> web.Application:
    """Return the Torget application for ``settings`` (nothing is opened until it starts)."""
    metrics = Metrics()
    app = web.Application(
        client_max_size=settings.server.max_body_bytes,
        middlewares=[metrics.middleware(), security_headers, error_middleware],
    )
    app[SETTINGS] = settings
    app[URLS] = Urls(settings)
    app[METRICS] = metrics
    app[ECHOES] = Echoes()  # session changes this node announces (see _media_owner_ctx)
    attempts = settings.auth.access_code_attempts_per_minute
    app[CODE_ATTEMPTS] = RateLimiter(Rate(attempts / 60, attempts))
    document = openapi.build(ROUTES, title="Torget API", version="1", server=settings.public_url)
    app[OPENAPI] = json.dumps(document, indent=1).encode()
    add_routes(app)
    app.cleanup_ctx.append(_store_ctx(clock or SystemClock(), announce or _print))
    app.cleanup_ctx.append(_realtime_ctx)
    app.cleanup_ctx.append(_media_ctx)
    app.cleanup_ctx.append(_media_owner_ctx)
    app.cleanup_ctx.append(_scheduler_ctx)
    return app


def _print(text: str) -> None:
    # The first-start secret goes to the operator's terminal, never through logging.
    print(text, flush=True)


def _store_ctx(
    clock: Clock, announce: Announce
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        store = await Store.open(settings.store.url)
        try:
            programme = Programme(store, settings, clock)
            app[SIGNER] = Signer(await programme.signing_key())
            app[STORE] = store
            app[PROGRAMME] = programme
            await _first_start(programme, announce)
            yield
        finally:
            await store.close()

    return ctx


async def _first_start(programme: Programme, announce: Announce) -> None:
    """Once per store: issue the first admin token and load the demo programme if asked."""
    secret = await programme.bootstrap_admin()
    if secret is not None:
        base = programme.settings.public_url
        announce(
            "\nTorget: first start. Sign in as admin with this token. It is shown only now;\n"
            "keep it somewhere safe (make more with `torget token create --role admin`):\n\n"
            f"    {secret}\n\n"
            f"  browser: {base}/studio  (paste the token)\n"
            f'  API:     curl -H "Authorization: Bearer <token>" {base}/api/v1/tokens\n'
        )
    await programme.load_demo_once()


@contextlib.asynccontextmanager
async def _realtime_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, programme, store = app[SETTINGS], app[PROGRAMME], app[STORE]
    realtime = settings.realtime
    engine: Engine
    if realtime.engine == "redis":
        from realtime.redis_engine import RedisEngine

        engine = RedisEngine(realtime.redis_url, store)
    else:
        engine = MemoryEngine(store, store_url=settings.store.url)
    hub = Hub(engine, store, tick_ms=realtime.tick_ms, history=realtime.history,
              clock=programme.clock.now)  # fmt: skip
    app[HUB] = hub
    app[ACTIONS] = Actions(
        hub,
        programme,
        app[SIGNER],
        rate=Rate(realtime.rate_limit_per_second, realtime.rate_limit_burst),
        address_factor=realtime.address_factor,
        flood_strikes=realtime.flood_strikes,
    )
    await hub.start()
    playback = PlaybackViewers(engine, store, app[SIGNER], node_id=hub.node_id)
    app[PLAYBACK] = playback
    playback.start()

    async def announce(session: Session) -> None:
        fact = SessionChanged(
            session_id=session.id,
            state=session.state.value,
            starts_at=session.starts_at.isoformat(),
            ends_at=session.ends_at.isoformat(),
        )
        app[ECHOES].sent(session.id, fact.state)
        await engine.append(EVENT_ROOM, encode_fact(fact))
        if session.state is SessionState.ENDED:
            await engine.archive(session.id)

    on_air: dict[str, ChannelNow] = {}  # what this node last told each studio's channel

    async def announce_channel(session: Session) -> None:
        _, now = await programme.channel(session.studio_id)
        if channel_changed(on_air.get(session.studio_id), now):
            on_air[session.studio_id] = now
            fact = ChannelSwitched(
                studio_id=session.studio_id,
                session_id=None if now.on_air is None else now.on_air.id,
                next_session_id=None if now.next_up is None else now.next_up.id,
            )
            await engine.append(EVENT_ROOM, encode_fact(fact))

    async def announce_sign_in_ended(ended: SignInEnded) -> None:
        await engine.append(EVENT_ROOM, encode_fact(ended))  # every node's hub acts on it

    async def send_caption(cue: Cue) -> None:
        fact = CaptionPosted(cue_id=cue.id, language=cue.language, text=cue.text,
                             start_ms=cue.start_ms, end_ms=cue.end_ms)  # fmt: skip
        await engine.append(cue.session_id, encode_fact(fact))  # WebRTC viewers get it here

    programme.on_session_change(announce, local_only=True)  # other nodes hear it from here
    programme.on_session_change(announce_channel, local_only=True)
    programme.on_sign_in_ended(announce_sign_in_ended)
    programme.on_caption(send_caption)
    try:
        yield
    finally:
        for conn in list(hub.connections):
            conn.shut_down()
        await playback.close()
        await hub.close()


@contextlib.asynccontextmanager
async def _media_ctx(app: web.Application) -> AsyncIterator[None]:
    """The media plane: RTMP listener and per-session ffmpeg; every ffmpeg is killed on exit."""
    settings, programme = app[SETTINGS], app[PROGRAMME]
    plane = MediaPlane(programme, plane_config(settings.media, settings.interpretation.languages))
    app[MEDIA] = plane
    app[CHANNELS] = Channels(plane)
    look = await programme.branding()
    plane.config.pipeline.slate_look.follow(look.background, look.text, look.name)
    programme.on_session_change(plane.session_changed)
    restreamer = restreams.media_taps(app, plane)  # restream pushes and ingest health
    media = settings.media
    plane.relays.options = RelayOptions(keyframe_interval=media.webrtc_keyframe_interval_seconds)
    whep = WhepManager(
        plane.relays,
        WhepLimits(
            max_viewers=media.webrtc_max_viewers,
            max_viewers_per_session=media.webrtc_max_viewers_per_session,
            connect_timeout=media.webrtc_connect_timeout_seconds,
            ice_servers=tuple(media.webrtc_ice_servers),
        ),
        interpretation=plane.interpretation,
    )
    app[WHEP] = whep
    playback = app[PLAYBACK]  # WebRTC viewers join the viewer count (resource ids, per node)
    whep.on_change(
        lambda session_id, _: playback.webrtc_now(session_id, whep.viewer_ids(session_id))
    )
    plane.add_tap(RtmpRelayTaps(plane.relays))  # RTMP -> WebRTC media, once per session
    notices = InterpretationNotices(app[HUB].engine)
    plane.interpretation.on_change(notices)  # viewers hear when an interpreter drops

    async def whep_session_changed(session: Session) -> None:
        if session.state in OVER:
            await whep.close_session(session.id)

    programme.on_session_change(whep_session_changed)
    if settings.media.enabled:
        await plane.start()
        await restreamer.start()
    try:
        yield
    finally:
        await restreamer.close()
        await whep.close()
        await plane.close()
        await notices.close()
        plane.relays.close()


@contextlib.asynccontextmanager
async def _media_owner_ctx(app: web.Application) -> AsyncIterator[None]:
    """Media ownership across nodes (``web.media.proxy``): publishes claim their session
    for this node, other nodes' media requests are forwarded to the owner, the owner acts on
    session changes made on other nodes, and builds recordings with the runs of the nodes that
    held the media before it (``web.media.runs``)."""
    settings, programme, plane, hub = app[SETTINGS], app[PROGRAMME], app[MEDIA], app[HUB]
    client = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=1000), auto_decompress=False
    )
    owners = MediaOwners(
        app[STORE], node_url=settings.node_url, node_id=hub.node_id, echoes=app[ECHOES]
    )
    proxy = MediaProxy(owners, client)
    app[MEDIA_PROXY] = proxy
    plane.set_ownership(owners, NodeRuns(client, app[SIGNER]))

    async def watch() -> None:
        # Follow the event room once the engine is connected: a follow made while the Redis
        # engine is still subscribing its first rooms would not be subscribed (the engine has
        # an ``up`` flag, no event to wait on).
        while not getattr(hub.engine, "up", True):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        try:
            follow = owners.follow_changes(
                plane, programme.get_session, programme.changed_elsewhere
            )
            await hub.watch_events(follow)
        except (StudioError, RealtimeError) as exc:
            log.warning("session changes of other nodes not followed yet: %s", exc.message)

    tasks = [
        asyncio.create_task(owners.run(plane), name="media-owner"),
        asyncio.create_task(watch(), name="media-owner-watch"),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await owners.close()
        await client.close()


async def run_scheduler(programme: Programme, metrics: Metrics) -> None:
    """Tick the programme forever at the configured interval; a failed tick is logged."""
    while True:
        try:
            for decision in await programme.tick():
                metrics.scheduler_steps.labels(decision.event.value).inc()
        except StudioError as exc:
            log.warning("scheduler tick failed: %s", exc.message)
        await asyncio.sleep(programme.settings.scheduler.tick_seconds)


@contextlib.asynccontextmanager
async def _scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(run_scheduler(app[PROGRAMME], app[METRICS]), name="scheduler")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
