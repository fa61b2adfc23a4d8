"""Players for the latency benchmark: they follow a live playlist like hls.js would, decode
every frame they fetch and read the time burned into it (``bench.media.stamp``).

- ``LowLatencyReader`` (LL-HLS): blocking playlist reloads (``_HLS_msn`` / ``_HLS_part``),
  every part fetched as soon as it is listed.
- ``ClassicReader`` (HLS): plain reloads, whole segments only; it reloads after one average
  segment duration when the playlist changed and after half of it when it did not (hls.js).

After each fetch they note two delays (now minus the time burned into a frame): of the newest
frame fetched, and of the frame an hls.js player would show, ``hold_back`` seconds behind the
live edge (``PART-HOLD-BACK`` for LL-HLS, three target durations for HLS).
"""

from __future__ import annotations

import asyncio
import bisect
import io
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import av

from bench.media import stamp
from bench.media.playlist import MediaPlaylist, parse_media


class Decoder:
    """Decodes fMP4 fragments (after their init segment) in order and reads each frame's
    burned-in time; remembers (media time, burned-in ms) of every frame."""

    def __init__(self) -> None:
        self.init = b""
        self._codec: Any = None
        self.times: list[float] = []  # media seconds, increasing
        self.stamps: list[int] = []  # burned-in ms, same order
        self.unreadable = 0

    def feed(self, init: bytes, fragment: bytes) -> int | None:
        """Decode one fragment (a part or a whole segment); return the newest frame's time."""
        if init != self.init:
            self.init, self._codec = init, None
        container: Any = av.open(io.BytesIO(init + fragment), format="mp4")
        newest: int | None = None
        try:
            stream = container.streams.video[0]
            if self._codec is None:
                self._codec = av.CodecContext.create("h264", "r")
                self._codec.extradata = stream.codec_context.extradata
                self._codec.thread_count = 1  # no frame threading: no frames held back
            base = stream.time_base
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                for frame in self._codec.decode(packet):
                    plane = frame.planes[0]
                    value = stamp.read(bytes(plane), frame.width, frame.height, plane.line_size)
                    if value is None:
                        self.unreadable += 1
                        continue
                    seconds = float(frame.pts * base) if frame.pts is not None else None
                    if seconds is not None and (not self.times or seconds > self.times[-1]):
                        self.times.append(seconds)
                        self.stamps.append(value)
                    newest = value
        finally:
            container.close()
        return newest

    def stamp_at(self, seconds: float) -> int | None:
        """The burned-in time of the frame on screen at media time ``seconds``."""
        index = bisect.bisect_right(self.times, seconds) - 1
        return self.stamps[index] if index >= 0 else None

    @property
    def edge(self) -> float | None:
        """Media time just after the newest frame (the live edge as far as fetched)."""
        if len(self.times) < 2:
            return None
        return self.times[-1] + (self.times[-1] - self.times[-2])


@dataclass
class Delays:
    """What one reader measured, in seconds."""

    newest: list[float] = field(default_factory=list)
    player: list[float] = field(default_factory=list)
    hold_back: float = 0.0
    fetches: int = 0
    unreadable: int = 0
    errors: list[str] = field(default_factory=list)


def now_ms() -> float:
    """The wall clock in milliseconds (the clock the publisher burns in)."""
    return time.time() * 1000


class _Reader:
    low_latency = False

    def __init__(self, http: aiohttp.ClientSession, playlist_url: str, warmup: float) -> None:
        self.http = http
        self.url = playlist_url
        self.base = playlist_url.rsplit("/", 1)[0] + "/"
        self.decoder = Decoder()
        self.delays = Delays()
        self.warmup_until = time.monotonic() + warmup
        self._inits: dict[str, bytes] = {}

    async def get(self, uri: str, params: dict[str, str] | None = None) -> bytes:
        """GET a playlist or media file; raise RuntimeError unless 200."""
        url = uri if "://" in uri else self.base + uri
        async with self.http.get(url, params=params) as answer:
            body = await answer.read()
            if answer.status != 200:
                raise RuntimeError(f"GET {uri} answered {answer.status}")
            return body

    async def playlist(self, params: dict[str, str] | None = None) -> MediaPlaylist:
        """The media playlist (with blocking-reload directives when given)."""
        return parse_media((await self.get(self.url, params)).decode())

    async def init(self, uri: str | None) -> bytes:
        """The init segment named by ``EXT-X-MAP`` (fetched once)."""
        if uri is None:
            raise RuntimeError("a segment has no EXT-X-MAP")
        if uri not in self._inits:
            self._inits[uri] = await self.get(uri)
        return self._inits[uri]

    async def take(self, map_uri: str | None, uri: str, hold_back: float) -> None:
        """Fetch and decode a part or segment; note the delays once warmed up."""
        init = await self.init(map_uri)
        data = await self.get(uri)
        newest = await asyncio.to_thread(self.decoder.feed, init, data)
        now = now_ms()
        self.delays.fetches += 1
        self.delays.hold_back = hold_back
        self.delays.unreadable = self.decoder.unreadable
        if newest is None or time.monotonic() < self.warmup_until:
            return
        self.delays.newest.append((now - newest) / 1000)
        edge = self.decoder.edge
        if edge is not None and edge - hold_back >= self.decoder.times[0]:
            shown = self.decoder.stamp_at(edge - hold_back)
            if shown is not None:
                self.delays.player.append((now - shown) / 1000)

    async def run(self, seconds: float) -> Delays:
        """Follow the playlist for ``seconds``; errors are noted, not raised."""
        try:
            async with asyncio.timeout(seconds):
                await self.follow()
        except TimeoutError:
            pass
        except (RuntimeError, ValueError, aiohttp.ClientError, av.FFmpegError) as exc:
            self.delays.errors.append(f"{type(exc).__name__}: {exc}")
        return self.delays

    async def follow(self) -> None:
        raise NotImplementedError


class LowLatencyReader(_Reader):
    """An LL-HLS client: blocking reloads, parts as they appear."""

    low_latency = True

    async def follow(self) -> None:
        listed = await self.playlist()
        hold_back = listed.hold_back(low_latency=True)
        # Start at the newest independent part (a keyframe), as players do.
        start: tuple[int, int] | None = None
        for segment in listed.segments:
            for index, part in enumerate(segment.parts):
                if part.independent:
                    start = (segment.msn, index)
        done = (start[0], start[1] - 1) if start else (listed.media_sequence - 1, 0)
        while not listed.ended:
            for segment in listed.segments:
                for index, part in enumerate(segment.parts):
                    if (segment.msn, index) > done:
                        await self.take(segment.map_uri, part.uri, hold_back)
                        done = (segment.msn, index)
            msn, part_index = listed.next_part()
            listed = await self.playlist({"_HLS_msn": str(msn), "_HLS_part": str(part_index)})


class ClassicReader(_Reader):
    """A classic HLS client: plain reloads, whole segments."""

    async def follow(self) -> None:
        listed = await self.playlist()
        hold_back = listed.hold_back(low_latency=False)
        done = -1
        while not listed.ended:
            complete = listed.complete
            fresh = [s for s in complete if s.msn > done]
            for segment in fresh:
                assert segment.uri is not None
                await self.take(segment.map_uri, segment.uri, hold_back)
                done = segment.msn
            average = (
                sum(s.duration for s in complete) / len(complete)
                if complete
                else listed.target_duration
            )
            await asyncio.sleep(average if fresh else average / 2)
            listed = await self.playlist()
