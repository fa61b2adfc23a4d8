"""Encoded media of live sessions, handed once to every WebRTC viewer (WHEP) of the session.

``SessionRelay`` (one per session, in ``RelayHub``) fans out H.264 access units and Opus packets
through one bounded ``ViewerFeed`` per viewer, with a GOP cache, continuous timestamps
(``Timeline``) and coalesced keyframe requests (``KeyframeGate``, pure). The contract between
the ingests and WHEP: ``docs/architecture.md`` ("WebRTC playback (WHEP)").
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from streaming.errors import FeedClosed

VIDEO_CLOCK = 90_000
AUDIO_CLOCK = 48_000
DEFAULT_KEYFRAME_INTERVAL = 1.0
DEFAULT_VIDEO_QUEUE = 300
DEFAULT_AUDIO_QUEUE = 250
DEFAULT_GOP_FRAMES = 300
DEFAULT_GOP_BYTES = 16 * 1024 * 1024


# --- pure rules --------------------------------------------------------------------------------


class KeyframeAnswer(enum.Enum):
    """What to do with one viewer's keyframe request."""

    SEND = "send"  # ask the publisher now
    LATER = "later"  # ask once the interval since the last request has passed
    COVERED = "covered"  # a request already made (or scheduled) serves this one too


@dataclass
class KeyframeGate:
    """Coalesces keyframe requests: at most one reaches the publisher per ``interval`` seconds.

    A request made while an earlier one is still unanswered (no keyframe since) is covered by
    it. A request made after a keyframe answered the last one, but within the interval, is
    deferred to the end of the interval (``LATER``; the caller calls ``due`` then) unless a
    keyframe arrives first (``keyframe`` returns True: cancel the deferred request).
    """

    interval: float = DEFAULT_KEYFRAME_INTERVAL
    last_sent: float | None = None
    outstanding: bool = False
    pending: bool = False

    def request(self, now: float) -> tuple[KeyframeAnswer, float]:
        """A viewer needs a keyframe at ``now``: the answer and, for ``LATER``, the delay."""
        if self.pending:
            return KeyframeAnswer.COVERED, 0.0
        if self.last_sent is None or now - self.last_sent >= self.interval:
            self.last_sent = now
            self.outstanding = True
            return KeyframeAnswer.SEND, 0.0
        if self.outstanding:
            return KeyframeAnswer.COVERED, 0.0
        self.pending = True
        return KeyframeAnswer.LATER, self.last_sent + self.interval - now

    def due(self, now: float) -> bool:
        """The deferred request's time came: whether to ask the publisher now."""
        if not self.pending:
            return False
        self.pending = False
        self.last_sent = now
        self.outstanding = True
        return True

    def keyframe(self) -> bool:
        """A keyframe arrived; True when it also answers a deferred request (cancel it)."""
        self.outstanding = False
        was_pending, self.pending = self.pending, False
        return was_pending


@dataclass
class Timeline:
    """Makes one stream's timestamps continuous across publishers and clock jumps.

    ``step`` is the gap put between the last timestamp sent and the first of a new run;
    a timestamp more than ``jump`` away from the previous one starts a new run too.
    """

    step: int
    jump: int
    offset: int = 0
    last_in: int | None = None
    last_out: int | None = None
    restart: bool = False

    def map(self, pts: int) -> int:
        """The outgoing timestamp for an incoming one."""
        if self.last_in is not None and not self.restart and abs(pts - self.last_in) > self.jump:
            self.restart = True
        if self.restart and self.last_out is not None:
            self.offset = self.last_out + self.step - pts
        self.restart = False
        self.last_in = pts
        out = pts + self.offset
        if self.last_out is None or out > self.last_out:
            self.last_out = out
        return out

    def new_run(self) -> None:
        """The next timestamp starts a new run (a new publisher)."""
        self.restart = True


# --- what the relay carries ---------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class VideoUnit:
    """One H.264 access unit (Annex-B) at ``pts`` (90 kHz). ``carrier`` caches what the
    sending side built from it (one ``av.Packet`` shared by all viewers)."""

    data: bytes
    pts: int
    keyframe: bool
    carrier: object | None = None


@dataclass(eq=False, slots=True)
class AudioUnit:
    """One Opus packet at ``pts`` (48 kHz); ``carrier`` as for ``VideoUnit``."""

    data: bytes
    pts: int
    carrier: object | None = None


@dataclass(eq=False)
class ViewerFeed:
    """One viewer's queues (see the module docstring); read with ``next_video``/``next_audio``.

    ``replayed`` counts the units at the head of the video queue that came from the GOP cache
    (re-timed by ``next_video`` so the picture catches up with the live edge at once).
    """

    relay: SessionRelay
    video_limit: int = DEFAULT_VIDEO_QUEUE
    audio_limit: int = DEFAULT_AUDIO_QUEUE
    video: deque[VideoUnit] = field(default_factory=deque)
    audio: deque[AudioUnit] = field(default_factory=deque)
    waiting_keyframe: bool = True
    dropped: int = 0
    closed: bool = False
    replayed: int = 0
    replay_edge: int = 0
    _video_ready: asyncio.Event = field(default_factory=asyncio.Event)
    _audio_ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer_video(self, unit: VideoUnit) -> None:
        """Queue a video unit; a full queue is emptied and the feed waits for a keyframe."""
        if self.closed:
            return
        if self.waiting_keyframe:
            if not unit.keyframe:
                return
            self.waiting_keyframe = False
        if len(self.video) >= self.video_limit:
            self.video.clear()
            self.replayed = 0
            self.dropped += 1
            if not unit.keyframe:
                self.waiting_keyframe = True
                self.relay.request_keyframe()
                return
        self.video.append(unit)
        self._video_ready.set()

    def offer_audio(self, unit: AudioUnit) -> None:
        """Queue an audio packet; a full queue loses its oldest packet."""
        if self.closed:
            return
        if len(self.audio) >= self.audio_limit:
            self.audio.popleft()
        self.audio.append(unit)
        self._audio_ready.set()

    async def next_video(self) -> tuple[VideoUnit, int]:
        """The next video unit and the timestamp to send it with: its own, except for units
        replayed from the GOP cache, which are squeezed (one tick apart) just before the live
        edge so that the viewer's player shows them at once instead of falling behind."""
        while not self.video:
            if self.closed:
                raise FeedClosed
            self._video_ready.clear()
            await self._video_ready.wait()
        if self.closed:
            raise FeedClosed
        unit = self.video.popleft()
        if self.replayed > 0:
            self.replayed -= 1
            return unit, self.replay_edge - self.replayed - 1
        return unit, unit.pts

    async def next_audio(self) -> AudioUnit:
        """The next audio packet."""
        while not self.audio:
            if self.closed:
                raise FeedClosed
            self._audio_ready.clear()
            await self._audio_ready.wait()
        if self.closed:
            raise FeedClosed
        return self.audio.popleft()

    def close(self) -> None:
        """Stop the feed: readers get ``FeedClosed``; the relay forgets it."""
        if self.closed:
            return
        self.closed = True
        self.video.clear()
        self.audio.clear()
        self._video_ready.set()
        self._audio_ready.set()
        self.relay.unsubscribe(self)


# --- the relay ----------------------------------------------------------------------------------


class SessionRelay:
    """One session's encoded media (see the module docstring)."""

    def __init__(
        self,
        session_id: str,
        *,
        keyframe_interval: float = DEFAULT_KEYFRAME_INTERVAL,
        gop_frames: int = DEFAULT_GOP_FRAMES,
        gop_bytes: int = DEFAULT_GOP_BYTES,
        video_queue: int = DEFAULT_VIDEO_QUEUE,
        audio_queue: int = DEFAULT_AUDIO_QUEUE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session_id = session_id
        self.native_source = False
        """Set by an ingest that publishes to this relay itself (WHIP): the RTMP tap skips it."""
        self.live = False
        """A publisher is feeding the relay (set by the first publish, cleared by
        ``source_ended``)."""
        self.frames = 0
        self._keyframe_requester: Callable[[], None] | None = None
        self._gate = KeyframeGate(keyframe_interval)
        self._deferred: asyncio.TimerHandle | None = None
        self._clock = clock
        self._gop: list[VideoUnit] = []
        self._gop_bytes = 0
        self._gop_frames = gop_frames
        self._gop_limit = gop_bytes
        self._video_queue = video_queue
        self._audio_queue = audio_queue
        self._video_time = Timeline(step=VIDEO_CLOCK // 30, jump=10 * VIDEO_CLOCK)
        self._audio_time = Timeline(step=AUDIO_CLOCK // 50, jump=10 * AUDIO_CLOCK)
        self._feeds: set[ViewerFeed] = set()
        self.keyframe_requests = 0
        """How many keyframe requests reached the publisher."""

    # --- the ingest's side

    def publish_video(self, data: bytes, pts: int, keyframe: bool) -> None:
        """One H.264 access unit (Annex-B; SPS/PPS before each IDR), ``pts`` at 90 kHz."""
        self.live = True
        self.frames += 1
        unit = VideoUnit(data, self._video_time.map(pts), keyframe)
        if keyframe:
            self._gop = [unit]
            self._gop_bytes = len(data)
            if self._gate.keyframe() and self._deferred is not None:
                self._deferred.cancel()
                self._deferred = None
        elif self._gop:
            self._gop_bytes += len(data)
            if len(self._gop) >= self._gop_frames or self._gop_bytes > self._gop_limit:
                self._gop, self._gop_bytes = [], 0  # too long: new viewers wait for a keyframe
            else:
                self._gop.append(unit)
        for feed in self._feeds:
            feed.offer_video(unit)

    def publish_audio(self, data: bytes, pts: int) -> None:
        """One Opus packet, ``pts`` at 48 kHz."""
        self.live = True
        unit = AudioUnit(data, self._audio_time.map(pts))
        for feed in self._feeds:
            feed.offer_audio(unit)

    def set_keyframe_requester(self, request: Callable[[], None] | None) -> None:
        """How to ask the current publisher for a keyframe (None: no publisher)."""
        self._keyframe_requester = request

    def source_ended(self) -> None:
        """The publisher is gone; viewers stay connected and wait for the next one."""
        self.live = False
        self._keyframe_requester = None
        self._gop, self._gop_bytes = [], 0
        self._video_time.new_run()
        self._audio_time.new_run()
        for feed in self._feeds:
            feed.waiting_keyframe = True

    # --- the viewers' side

    @property
    def has_picture(self) -> bool:
        """A new viewer would get a picture at once (a keyframe is cached)."""
        return bool(self._gop)

    @property
    def viewers(self) -> int:
        """How many feeds are open."""
        return len(self._feeds)

    def subscribe(self) -> ViewerFeed:
        """A feed for a new viewer, primed with the cached group of pictures."""
        feed = ViewerFeed(self, video_limit=self._video_queue, audio_limit=self._audio_queue)
        self._feeds.add(feed)
        if self._gop and len(self._gop) <= feed.video_limit:
            for unit in self._gop:
                feed.offer_video(unit)
            feed.replayed = len(self._gop) - 1  # the newest cached unit is the live edge
            feed.replay_edge = self._gop[-1].pts
        self.request_keyframe()
        return feed

    def unsubscribe(self, feed: ViewerFeed) -> None:
        """Forget a feed (``ViewerFeed.close`` calls this)."""
        self._feeds.discard(feed)

    def request_keyframe(self) -> None:
        """A viewer needs a keyframe; the publisher hears at most one request per interval."""
        if self._keyframe_requester is None:
            return
        answer, delay = self._gate.request(self._clock())
        if answer is KeyframeAnswer.SEND:
            self._ask()
        elif answer is KeyframeAnswer.LATER:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._deferred = loop.call_later(delay, self._deferred_due)

    def _deferred_due(self) -> None:
        self._deferred = None
        if self._gate.due(self._clock()):
            self._ask()

    def _ask(self) -> None:
        if self._keyframe_requester is not None:
            self.keyframe_requests += 1
            self._keyframe_requester()

    def close(self) -> None:
        """The session is over: every feed is closed, a deferred request cancelled."""
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        for feed in list(self._feeds):
            feed.close()
        self.live = False
        self._gop = []


@dataclass(frozen=True)
class RelayOptions:
    """How every relay of a hub buffers and asks for keyframes (from the ``[media]`` settings)."""

    keyframe_interval: float = DEFAULT_KEYFRAME_INTERVAL
    gop_frames: int = DEFAULT_GOP_FRAMES
    gop_bytes: int = DEFAULT_GOP_BYTES
    video_queue: int = DEFAULT_VIDEO_QUEUE
    audio_queue: int = DEFAULT_AUDIO_QUEUE


class RelayHub:
    """The relays of the sessions live on this node; ``options`` apply to relays made later."""

    def __init__(self, options: RelayOptions | None = None) -> None:
        self._relays: dict[str, SessionRelay] = {}
        self.options = options or RelayOptions()

    def relay(self, session_id: str) -> SessionRelay:
        """The session's relay, made on first use."""
        found = self._relays.get(session_id)
        if found is None:
            o = self.options
            found = self._relays[session_id] = SessionRelay(
                session_id,
                keyframe_interval=o.keyframe_interval,
                gop_frames=o.gop_frames,
                gop_bytes=o.gop_bytes,
                video_queue=o.video_queue,
                audio_queue=o.audio_queue,
            )
        return found

    def get(self, session_id: str) -> SessionRelay | None:
        """The session's relay, if it has one."""
        return self._relays.get(session_id)

    def drop(self, session_id: str) -> None:
        """Forget the session's relay (its session is over); its viewers' feeds are closed."""
        relay = self._relays.pop(session_id, None)
        if relay is not None:
            relay.close()

    def close(self) -> None:
        """Close every relay (the node shuts down)."""
        for session_id in list(self._relays):
            self.drop(session_id)
