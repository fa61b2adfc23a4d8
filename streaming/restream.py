"""Restream: push a live session's source rendition to RTMP destinations (YouTube, Facebook).

The parts, pure first:

- ``check_push_url``, ``mask_url``, ``scrub``: a destination URL must be ``rtmp://`` or
  ``rtmps://`` with a host and a path; its stream key (the last path segment, any query, any
  password) is shown only masked (``rtmp://a.rtmp.youtube.com/live2/••••abcd``) and scrubbed
  from every text that could reach a log or an API answer (ffmpeg prints the URL in its errors).
- ``RetryPolicy`` / ``Retries``: the back-off between attempts (1, 2, 5, 10, 30 s, then 30 s
  again) and when to give up (``max_failures`` consecutive failures → failed). A push that
  stayed up for ``stable_seconds`` clears the count.
- ``ProgressReader``: ffmpeg's ``-progress`` blocks (``total_size`` is the bytes sent).
- ``PushBuffer``: what one push sends: its own ``flv.FlvFeed`` (starts at a keyframe with the
  configurations) and a bounded queue that drops to the next keyframe when full.

The adapters:

- ``Pusher``: one destination of one publish. Runs ``ffmpeg -f flv -i pipe:0 -c copy -f flv
  <url>`` (``ffmpeg_args.restream_args``, an argument list, never a shell) fed from its
  ``PushBuffer``; ``tag()`` never blocks. ffmpeg exiting is a failure, and so is one not live
  ``connect_timeout`` after it started or that sent nothing for ``stall_timeout`` (it is
  killed): the pusher waits as the policy says and starts again at the next keyframe, until it
  gives up. It is live once ffmpeg reports bytes written (it only writes once connected).
- ``RestreamTap``: the ``plane.MediaTap`` of one publish: remembers the decoder configurations
  and hands every tag to its pushers.
- ``Restreamer``: the node's ``plane.TapFactory`` and the status board. It asks the programme
  (``load``) whether a session is live and which destinations are enabled, and keeps one pusher
  per enabled destination while the session is LIVE and has an ingest on this node: not while
  it is only ready, and none after it ended. ``sync`` is called when a session changes, when an
  operator changes its destinations, and every ``sync_seconds`` (changes made on other nodes).

Statuses (``DestinationStatus``) live in memory on the node that runs the push.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from streaming.errors import FfmpegNotStarted, InvalidArgument
from streaming.ffmpeg_args import PipeInput, redact_url, restream_args
from streaming.ffmpeg_process import FfmpegProcess
from streaming.ffmpeg_progress import progress_bytes
from streaming.flv import FlvFeed, FlvTag, StreamHeads, TagType
from streaming.ladder import SourceInfo
from streaming.vocab import AudioCodec, InputFormat, RestreamState
from studio.models import Session

log = logging.getLogger(__name__)

MAX_URL = 1024
MASK = "••••"
URL_PROBLEM = (
    "must be an rtmp:// or rtmps:// URL with a host and a path, "
    "like rtmp://a.rtmp.youtube.com/live2/<stream key>"
)
_SCHEMES = frozenset({"rtmp", "rtmps"})
_STDERR_LINES = 10


# --- destination URLs -------------------------------------------------------------------------


def check_push_url(url: str) -> str:
    """Return ``url`` if it can be a restream destination; raise ``InvalidArgument`` if not."""
    if len(url) > MAX_URL:
        raise InvalidArgument("url", f"must be at most {MAX_URL} characters")
    if not url.isascii() or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise InvalidArgument("url", URL_PROBLEM)
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError when the port is not a number in range
    except ValueError:
        raise InvalidArgument("url", URL_PROBLEM) from None
    if (
        parts.scheme not in _SCHEMES
        or not parts.hostname
        or not parts.path.strip("/")
        or parts.fragment
    ):
        raise InvalidArgument("url", URL_PROBLEM)
    return url


def url_secrets(url: str) -> list[str]:
    """The parts of ``url`` that are secret: the stream key (last path segment), the query and
    any user name and password, longest first."""
    parts = urlsplit(url)
    found = [parts.path.rstrip("/").rpartition("/")[2], parts.query]
    with contextlib.suppress(ValueError):
        found += [parts.username or "", parts.password or ""]
    return sorted({s for s in found if s}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` with the URL redacted and every secret part of it replaced by ``***``."""
    text = text.replace(url, redact_url(url))
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return text


def mask_url(url: str) -> str:
    """The URL as an API may show it: no credentials, the stream key masked but for its last
    four characters when it is long enough (``rtmp://host/live2/••••abcd``), no query."""
    parts = urlsplit(url)
    head, _, key = parts.path.rstrip("/").rpartition("/")
    if not key:
        shown = parts.path
    elif len(key) >= 12:
        shown = f"{head}/{MASK}{key[-4:]}"
    else:
        shown = f"{head}/{MASK}"
    netloc = parts.hostname or ""
    with contextlib.suppress(ValueError):
        if parts.port:
            netloc += f":{parts.port}"
    query = f"?{MASK}" if parts.query else ""
    return f"{parts.scheme}://{netloc}{shown}{query}"


# --- retries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait after the n-th consecutive failure, and when to give up."""

    delays: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    max_failures: int = 8
    stable_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not self.delays or any(d < 0 for d in self.delays) or self.max_failures < 1:
            raise InvalidArgument("retry", "delays must be non-negative and max_failures >= 1")

    def delay(self, failures: int) -> float | None:
        """The wait after ``failures`` consecutive failures, or None: give up."""
        if failures >= self.max_failures:
            return None
        return self.delays[min(failures, len(self.delays)) - 1]


class Retries:
    """The consecutive failures of one destination, on a clock (``time.monotonic`` or a fake)."""

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self.failures = 0
        self._live_at: float | None = None

    def started(self) -> None:
        """An attempt begins."""
        self._live_at = None

    def went_live(self) -> None:
        """The attempt reached the destination and is sending."""
        if self._live_at is None:
            self._live_at = self.clock()

    def ended(self) -> float | None:
        """The attempt ended (ffmpeg exited): the wait before the next one, or None: give up."""
        if self._live_at is not None and self.clock() - self._live_at >= self.policy.stable_seconds:
            self.failures = 0
        self._live_at = None
        self.failures += 1
        return self.policy.delay(self.failures)


# --- status -------------------------------------------------------------------------------------


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class DestinationStatus:
    """Where a destination's push is, as the API shows it (never holds the URL)."""

    state: RestreamState = RestreamState.IDLE
    since: datetime = field(default_factory=_utcnow)
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


# --- one destination of one publish --------------------------------------------------------------


class PushBuffer:
    """What one push sends: its own ``FlvFeed`` and a bounded queue of bytes (pure).

    While not ``accepting`` (no ffmpeg runs) only the configurations are remembered. After
    ``begin`` the stream starts at the next keyframe with the header and configurations. When
    a tag would make the queue hold more than ``max_bytes``, tags are dropped until the next
    keyframe (video frames dropped are counted); what is queued stays a valid FLV stream.
    """

    def __init__(self, has_audio: bool, max_bytes: int, heads: Iterable[FlvTag] = ()) -> None:
        self.max_bytes = max_bytes
        self.accepting = False
        self.skipping = False
        self.dropped_frames = 0
        self.size = 0
        self._feed = FlvFeed(has_audio=has_audio)
        self._chunks: deque[bytes] = deque()
        for tag in heads:
            self._feed.push(tag)

    def begin(self) -> None:
        """A new ffmpeg run: empty queue, FLV header and configurations at the next keyframe."""
        self._chunks.clear()
        self.size = 0
        self.skipping = False
        self._feed.restart()
        self.accepting = True

    def halt(self) -> None:
        """The run is over: queue nothing until the next ``begin``."""
        self.accepting = False
        self._chunks.clear()
        self.size = 0

    def offer(self, tag: FlvTag) -> bool:
        """Take ``tag``; True when bytes were queued."""
        heads = tag.kind is TagType.SCRIPT or tag.is_video_config or tag.is_audio_config
        if not self.accepting or (self.skipping and heads):
            if heads:
                self._feed.push(tag)  # remembered for the stream's (re)start
            return False
        if self.skipping:
            if not tag.is_keyframe:
                self.dropped_frames += tag.is_frame
                return False
            self.skipping = False
        data = self._feed.push(tag)
        if not data:
            return False
        if self.size + len(data) > self.max_bytes:
            self.skipping = True
            self.dropped_frames += tag.is_frame
            return False
        self._chunks.append(data)
        self.size += len(data)
        return True

    def take(self) -> bytes | None:
        """The oldest queued bytes, if any."""
        if not self._chunks:
            return None
        data = self._chunks.popleft()
        self.size -= len(data)
        return data


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
        wall: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.session_id = session_id
        self.target = target
        self.config = config
        self.status = status
        self._wall = wall
        self._args = restream_args(
            PipeInput(InputFormat.FLV),
            target.url,
            audio=AudioCodec.AAC if source.has_audio else None,
            ffmpeg=config.ffmpeg,
        )
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

    async def _attempt(self) -> str:
        """One ffmpeg run; returns why it ended (scrubbed of the stream key)."""
        try:
            process = await FfmpegProcess.start(
                self._args,
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


# --- one publish -------------------------------------------------------------------------------


class RestreamTap:
    """The media tap of one publish: remembers the configurations, feeds its pushers."""

    def __init__(
        self, restreamer: Restreamer, session_id: str, source: SourceInfo, first: Sequence[FlvTag]
    ) -> None:
        self.restreamer = restreamer
        self.session_id = session_id
        self.source = source
        self.pushers: dict[str, Pusher] = {}
        self.closed = False
        self._heads = StreamHeads()
        for tag in first:
            self._heads.remember(tag)

    def tag(self, tag: FlvTag) -> None:
        """Hand ``tag`` to every pusher (never blocks)."""
        self._heads.remember(tag)
        for pusher in self.pushers.values():
            pusher.tag(tag)

    async def apply(self, targets: Sequence[Target], rearm: Collection[str] = ()) -> None:
        """Push to exactly ``targets``: start new pushers, stop those no longer wanted.

        A pusher that gave up is started again only when its id is in ``rearm``.
        """
        wanted = {t.id: t for t in targets}
        stale = [
            p
            for i, p in self.pushers.items()
            if i not in wanted or p.target.url != wanted[i].url or (p.done and i in rearm)
        ]
        for pusher in stale:
            del self.pushers[pusher.target.id]
        await asyncio.gather(*(p.stop() for p in stale))
        if self.closed:
            return
        for target in targets:
            if target.id in self.pushers:
                continue
            status = self.restreamer.fresh_status(target.id)
            try:
                pusher = Pusher(
                    self.session_id,
                    target,
                    self.source,
                    self._heads.tags(),
                    self.restreamer.config,
                    status,
                    self.restreamer.wall,
                )
            except InvalidArgument as exc:  # stored before the rules were stricter
                status.last_error = f"the destination URL cannot be used ({exc.problem})"
                status.move(RestreamState.FAILED, self.restreamer.wall())
                continue
            self.pushers[target.id] = pusher
            pusher.start()

    async def close(self) -> None:
        """The publish ended: stop every push."""
        self.closed = True
        self.restreamer.tap_closed(self)
        pushers, self.pushers = list(self.pushers.values()), {}
        await asyncio.gather(*(p.stop() for p in pushers))


# --- the node ----------------------------------------------------------------------------------

Load = Callable[[str], Awaitable[tuple[bool, list[Target]]]]


class Restreamer:
    """Every restream on this node: the tap factory, the syncing and the statuses."""

    def __init__(
        self,
        load: Load,
        config: RestreamConfig | None = None,
        wall: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.load = load
        self.config = config or RestreamConfig()
        self.wall = wall
        self._taps: dict[str, RestreamTap] = {}
        self._statuses: dict[str, DestinationStatus] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None

    # --- what the API reads --------------------------------------------------------------

    def status(self, destination_id: str) -> DestinationStatus | None:
        """The destination's status on this node, if it ever ran here."""
        return self._statuses.get(destination_id)

    def tap(self, session_id: str) -> RestreamTap | None:
        """The session's current publish tap on this node, if any."""
        return self._taps.get(session_id)

    def dropped_frames(self, session_id: str) -> int:
        """Frames the session's pushes on this node dropped because they fell behind."""
        tap = self._taps.get(session_id)
        if tap is None:
            return 0
        return sum(p.status.dropped_frames for p in tap.pushers.values())

    def counts(self) -> dict[RestreamState, int]:
        """How many destinations are in each state on this node (metrics)."""
        counts = dict.fromkeys(RestreamState, 0)
        for status in self._statuses.values():
            counts[status.state] += 1
        return counts

    def fresh_status(self, destination_id: str) -> DestinationStatus:
        """A new status for a push that starts now (replaces the last one)."""
        status = DestinationStatus(since=self.wall())
        self._statuses[destination_id] = status
        return status

    def forget(self, destination_id: str) -> None:
        """A destination was removed: drop its status."""
        self._statuses.pop(destination_id, None)

    # --- the plane's side ----------------------------------------------------------------

    def __call__(
        self, session: Session, source: SourceInfo, first: Sequence[FlvTag]
    ) -> RestreamTap:
        """A publish's source is known: make its tap and start pushing if the session is live."""
        old = self._taps.get(session.id)
        if old is not None:
            old.closed = True
        tap = RestreamTap(self, session.id, source, first)
        self._taps[session.id] = tap
        self._spawn(self.sync(session.id))
        return tap

    def tap_closed(self, tap: RestreamTap) -> None:
        """A publish ended (called by the tap)."""
        if self._taps.get(tap.session_id) is tap:
            del self._taps[tap.session_id]

    async def session_changed(self, session: Session) -> None:
        """A session changed (went live, ended): push or stop accordingly."""
        if session.id in self._taps:
            await self.sync(session.id)

    async def sync(self, session_id: str, rearm: Collection[str] = ()) -> None:
        """Push to the session's enabled destinations if it is live and has an ingest here."""
        async with self._locks.setdefault(session_id, asyncio.Lock()):
            tap = self._taps.get(session_id)
            if tap is None:
                return
            try:
                live, targets = await self.load(session_id)
            except Exception as exc:  # the store is away: keep what runs, try again later
                log.warning("session %s: restream destinations unknown: %s", session_id, exc)
                return
            if tap.closed or self._taps.get(session_id) is not tap:
                return
            await tap.apply(targets if live else [], rearm)

    # --- lifetime ------------------------------------------------------------------------

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def start(self) -> None:
        """Start the periodic sync (destinations changed on other nodes)."""
        if self._loop is None:
            self._loop = asyncio.create_task(self._sync_forever(), name="restream sync")

    async def _sync_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.sync_seconds)
            for session_id in list(self._taps):
                try:
                    await self.sync(session_id)
                except Exception:  # one session's trouble must not end the loop
                    log.exception("session %s: restream sync failed", session_id)

    async def close(self) -> None:
        """Stop every push (shutdown)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        taps, self._taps = list(self._taps.values()), {}
        for tap in taps:
            tap.closed = True
        await asyncio.gather(*(p.stop() for tap in taps for p in tap.pushers.values()))
