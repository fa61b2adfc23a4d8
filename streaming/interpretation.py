"""Interpreters' voices on their way to the session pipeline: a bounded buffer per (session,
language) that the pipeline reads at its own pace, and who is live. No I/O.

An interpreter's WebRTC publish (``streaming.whip.interpreter``) takes the language's booth
(``open``: one interpreter a language) and pushes decoded PCM to its ``InterpreterFeed``; the
first voice makes the interpreter live, closing the feed drops them (``on_change`` listeners
are told both). The pipeline takes exactly the bytes it needs every few milliseconds from
``InterpretationDesk.take``: voice when there is some, silence when the interpreter is late or
gone (the pipeline mixes it over the ducked original sound, so a dropped interpreter falls back
to the original, never to silence). The buffer never grows a delay: it keeps at most
``MAX_BUFFERED`` seconds, the newest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from streaming.errors import InterpreterBusy

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
CHANNELS = 2
FRAME_BYTES = 2 * CHANNELS  # one sample of each channel, s16le
BYTES_PER_SECOND = SAMPLE_RATE * FRAME_BYTES  # 192 000
MAX_BUFFERED = 0.3
"""Seconds of voice a buffer keeps at most (the oldest is dropped beyond)."""
JITTER = 0.06
"""Seconds of voice the desk's buffers gather before giving any, after a start or a shortfall:
a frame that comes up to this late leaves no gap in the voice."""

ChangeListener = Callable[[str, str, bool], None]
"""Told ``(session_id, language, live)`` when an interpreter goes live or drops."""


def whole_frames(nbytes: int) -> int:
    """``nbytes`` rounded down to whole sample frames."""
    return nbytes - nbytes % FRAME_BYTES


class VoiceBuffer:
    """A bounded FIFO of PCM (s16le, 48 kHz, stereo) that always answers with the bytes asked
    for: buffered voice first, then silence."""

    def __init__(self, max_seconds: float = MAX_BUFFERED, jitter: float = 0.0) -> None:
        self.limit = whole_frames(int(max_seconds * BYTES_PER_SECOND))
        self.jitter = whole_frames(int(jitter * BYTES_PER_SECOND))
        self._gathering = self.jitter > 0  # silence until ``jitter`` of voice is buffered
        self._data = bytearray()
        self._partial = b""  # the bytes of an incomplete frame, until the rest comes
        self.dropped = 0  # bytes dropped to keep the delay bounded

    def __len__(self) -> int:
        return len(self._data)

    def push(self, pcm: bytes) -> None:
        """Add voice; keep only the newest ``limit`` bytes (whole frames)."""
        pcm = self._partial + pcm
        cut = whole_frames(len(pcm))
        self._partial = pcm[cut:]
        self._data += pcm[:cut]
        excess = len(self._data) - self.limit
        if excess > 0:
            del self._data[:excess]
            self.dropped += excess

    def take(self, nbytes: int) -> bytes:
        """Exactly ``nbytes``: the oldest voice, padded with silence when there is less (then,
        with ``jitter``, silence until that much is buffered again)."""
        if nbytes < 0:
            raise ValueError("take a positive number of bytes")
        if self._gathering and len(self._data) < self.jitter:
            return bytes(nbytes)
        voice = bytes(self._data[: whole_frames(nbytes)])
        del self._data[: len(voice)]
        self._gathering = self.jitter > 0 and len(voice) < whole_frames(nbytes)
        return voice + bytes(nbytes - len(voice))

    def clear(self) -> None:
        """Forget what is buffered."""
        self._data.clear()
        self._partial = b""


EAR_CHUNK = whole_frames(BYTES_PER_SECOND // 50)  # 20 ms: one Opus frame's worth
EAR_CHUNKS = 10  # chunks an ear keeps at most (200 ms; the oldest go beyond)


class VoiceEar:
    """A WebRTC viewer listening to an interpreter: the voice in 20 ms chunks, the newest
    ``EAR_CHUNKS`` kept; ``wake`` (if set) is called when a chunk is ready."""

    def __init__(self, session_id: str, language: str) -> None:
        self.session_id = session_id
        self.language = language
        self.wake: Callable[[], None] | None = None
        self._pending = bytearray()
        self._chunks: list[bytes] = []

    def hear(self, pcm: bytes) -> None:
        """More voice."""
        self._pending += pcm
        while len(self._pending) >= EAR_CHUNK:
            self._chunks.append(bytes(self._pending[:EAR_CHUNK]))
            del self._pending[:EAR_CHUNK]
        del self._chunks[:-EAR_CHUNKS]
        if self._chunks and self.wake is not None:
            self.wake()

    def pop(self) -> bytes | None:
        """The oldest 20 ms chunk, or None."""
        return self._chunks.pop(0) if self._chunks else None

    def clear(self) -> None:
        """Forget what was heard (the viewer listened to the original meanwhile)."""
        self._pending.clear()
        self._chunks.clear()


@dataclass
class _Booth:
    """One (session, language): its voice and the interpreter in it (``feed``), live once
    their first voice came."""

    voice: VoiceBuffer = field(default_factory=VoiceBuffer)
    feed: InterpreterFeed | None = None
    live: bool = False


class InterpreterFeed:
    """What one live interpreter's publish pushes their voice into."""

    def __init__(self, desk: InterpretationDesk, session_id: str, language: str) -> None:
        self.desk = desk
        self.session_id = session_id
        self.language = language
        self.closed = False

    def push(self, pcm: bytes) -> None:
        """Voice of the interpreter (s16le, 48 kHz, stereo); the first makes them live;
        ignored once closed."""
        if not self.closed:
            self.desk._voice(self, pcm)

    def close(self) -> None:
        """The interpreter is gone (idempotent): the language falls back to the original."""
        if self.closed:
            return
        self.closed = True
        self.desk._closed(self)


class InterpretationDesk:
    """Every interpreter of this node: who is live in which (session, language) and their
    voices, read by the session pipelines (see the module docstring)."""

    def __init__(self, max_buffered: float = MAX_BUFFERED, jitter: float = JITTER) -> None:
        self.max_buffered = max_buffered
        self.jitter = jitter
        self._booths: dict[tuple[str, str], _Booth] = {}
        self._listeners: list[ChangeListener] = []
        self._ears: dict[tuple[str, str], set[VoiceEar]] = {}

    def _booth(self, session_id: str, language: str) -> _Booth:
        key = (session_id, language)
        booth = self._booths.get(key)
        if booth is None:
            booth = self._booths[key] = _Booth(VoiceBuffer(self.max_buffered, self.jitter))
        return booth

    def on_change(self, listener: ChangeListener) -> None:
        """Call ``listener(session_id, language, live)`` when an interpreter goes live or drops."""
        self._listeners.append(listener)

    def open(self, session_id: str, language: str) -> InterpreterFeed:
        """Take the language's booth for an interpreter (live once their voice comes);
        ``InterpreterBusy`` if another one has it."""
        booth = self._booth(session_id, language)
        if booth.feed is not None:
            raise InterpreterBusy(
                f"an interpreter already publishes {language} for this session; "
                "they stop first (or their connection drops)"
            )
        booth.voice.clear()
        booth.feed = InterpreterFeed(self, session_id, language)
        return booth.feed

    def _voice(self, feed: InterpreterFeed, pcm: bytes) -> None:
        booth = self._booths.get((feed.session_id, feed.language))
        if booth is None or booth.feed is not feed:
            return
        booth.voice.push(pcm)
        self._heard(feed.session_id, feed.language, pcm)
        if not booth.live:
            booth.live = True
            self._tell(feed.session_id, feed.language, live=True)

    def _closed(self, feed: InterpreterFeed) -> None:
        key = (feed.session_id, feed.language)
        booth = self._booths.get(key)
        if booth is None or booth.feed is not feed:
            return
        del self._booths[key]
        if booth.live:
            self._tell(feed.session_id, feed.language, live=False)

    def take(self, session_id: str, language: str, nbytes: int) -> bytes:
        """Exactly ``nbytes`` of the language's voice (silence when nobody is live)."""
        booth = self._booths.get((session_id, language))
        if booth is None:
            return bytes(nbytes)
        return booth.voice.take(nbytes)

    def is_live(self, session_id: str, language: str) -> bool:
        """Whether an interpreter publishes the language for the session now."""
        booth = self._booths.get((session_id, language))
        return booth is not None and booth.live

    def live_languages(self, session_id: str) -> tuple[str, ...]:
        """The languages interpreters publish for the session now (sorted)."""
        return tuple(
            sorted(lang for (sid, lang), b in self._booths.items() if sid == session_id and b.live)
        )

    def close_session(self, session_id: str) -> None:
        """Drop every interpreter of the session (it ended)."""
        for (sid, _), booth in list(self._booths.items()):
            if sid == session_id and booth.feed is not None:
                booth.feed.close()

    def listen(self, session_id: str, language: str) -> VoiceEar:
        """An ear on the language's interpreter (a WebRTC viewer of that language)."""
        ear = VoiceEar(session_id, language)
        self._ears.setdefault((session_id, language), set()).add(ear)
        return ear

    def unlisten(self, ear: VoiceEar) -> None:
        """The viewer is gone."""
        ears = self._ears.get((ear.session_id, ear.language))
        if ears is not None:
            ears.discard(ear)
            if not ears:
                del self._ears[(ear.session_id, ear.language)]

    def _heard(self, session_id: str, language: str, pcm: bytes) -> None:
        for ear in self._ears.get((session_id, language), ()):
            ear.hear(pcm)

    def _tell(self, session_id: str, language: str, *, live: bool) -> None:
        for listener in self._listeners:
            try:
                listener(session_id, language, live)
            except Exception:
                log.exception("interpretation listener failed for %s %s", session_id, language)
