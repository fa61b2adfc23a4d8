"""An RTMP publish turned into WebRTC-ready media once per session (a ``MediaTap``).

``AvcToAnnexB`` (pure) rewrites each AVCC access unit to Annex-B inline; AAC becomes Opus in a
worker task (``AacToOpus``), only while the session has WebRTC viewers. A session whose relay
is fed natively (WHIP) gets no tap. See ``docs/architecture.md`` ("WebRTC playback (WHEP)").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from streaming.errors import InvalidMedia
from streaming.flv import FLV_CODEC_AVC, FLV_SOUND_AAC, FlvTag, TagType
from streaming.ladder import SourceInfo
from streaming.relay import AUDIO_CLOCK, RelayHub, SessionRelay
from studio.models import Session

log = logging.getLogger(__name__)

START_CODE = b"\x00\x00\x00\x01"
NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
AUDIO_QUEUE = 200
OPUS_BITRATE = 96_000


@dataclass(frozen=True)
class AvcConfig:
    """What an AVC decoder configuration record holds that Annex-B needs."""

    length_size: int
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]


def parse_avc_config(record: bytes) -> AvcConfig:
    """Read an AVCDecoderConfigurationRecord (ISO 14496-15 5.2.4.1)."""
    try:
        if record[0] != 1:
            raise InvalidMedia("AVC decoder configuration record of an unknown version")
        length_size = (record[4] & 0x03) + 1
        pos = 5
        sets: list[list[bytes]] = [[], []]
        for index in (0, 1):
            count = record[pos] & (0x1F if index == 0 else 0xFF)
            pos += 1
            for _ in range(count):
                (size,) = struct.unpack_from(">H", record, pos)
                pos += 2
                unit = record[pos : pos + size]
                if len(unit) != size:
                    raise InvalidMedia("AVC decoder configuration record is truncated")
                sets[index].append(unit)
                pos += size
    except (IndexError, struct.error) as exc:
        raise InvalidMedia("AVC decoder configuration record is truncated") from exc
    if length_size == 3:
        raise InvalidMedia("AVC NAL length size 3 is not allowed")
    return AvcConfig(length_size, tuple(sets[0]), tuple(sets[1]))


def split_avcc(data: bytes, length_size: int) -> list[bytes]:
    """The NAL units of a length-prefixed (AVCC) access unit."""
    units = []
    pos = 0
    while pos < len(data):
        if pos + length_size > len(data):
            raise InvalidMedia("AVC NAL unit length is truncated")
        size = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        if size == 0 or pos + size > len(data):
            raise InvalidMedia("AVC NAL unit is truncated")
        units.append(data[pos : pos + size])
        pos += size
    return units


@dataclass(frozen=True)
class AnnexBUnit:
    """One Annex-B access unit for the relay."""

    data: bytes
    pts: int
    keyframe: bool


@dataclass
class AvcToAnnexB:
    """FLV AVC video tags in, Annex-B access units out (see the module docstring)."""

    config: AvcConfig | None = None

    def push(self, tag: FlvTag) -> AnnexBUnit | None:
        """The access unit of a video tag; None for configurations, other codecs, frames
        before the first configuration, and empty frames."""
        p = tag.payload
        if tag.kind is not TagType.VIDEO or len(p) < 5 or p[0] & 0x0F != FLV_CODEC_AVC:
            return None
        if tag.is_video_config:
            self.config = parse_avc_config(p[5:])
            return None
        if not tag.is_frame or self.config is None:
            return None
        cts = int.from_bytes(p[2:5], "big", signed=True)
        nals = [n for n in split_avcc(p[5:], self.config.length_size) if n[0] & 0x1F != NAL_AUD]
        types = {n[0] & 0x1F for n in nals}
        keyframe = NAL_IDR in types
        if not nals:
            return None
        if keyframe and NAL_SPS not in types:
            nals = [*self.config.sps, *self.config.pps, *nals]
        data = b"".join(START_CODE + n for n in nals)
        return AnnexBUnit(data, max(tag.timestamp + cts, 0) * 90, keyframe)


def aac_config(tag: FlvTag) -> bytes | None:
    """The AudioSpecificConfig of an AAC sequence header tag, else None."""
    return tag.payload[2:] if tag.is_audio_config else None


def aac_frame(tag: FlvTag) -> bytes | None:
    """The raw AAC frame of an AAC audio tag, else None."""
    p = tag.payload
    if tag.kind is TagType.AUDIO and len(p) > 2 and p[0] >> 4 == FLV_SOUND_AAC and p[1] == 1:
        return p[2:]
    return None


class AacToOpus:
    """Decodes AAC and encodes Opus with PyAV (one per session; CPU-bound, small)."""

    def __init__(self, config: bytes, bitrate: int = OPUS_BITRATE) -> None:
        import av

        self._av: Any = av
        self._decoder: Any = av.CodecContext.create("aac", "r")
        self._decoder.extradata = config
        self._encoder: Any = av.CodecContext.create("libopus", "w")
        self._encoder.sample_rate = AUDIO_CLOCK
        self._encoder.layout = "stereo"
        self._encoder.format = "s16"
        self._encoder.bit_rate = bitrate
        self._encoder.time_base = Fraction(1, AUDIO_CLOCK)
        self._resampler: Any = av.AudioResampler(
            format="s16", layout="stereo", rate=AUDIO_CLOCK, frame_size=960
        )
        self._next_pts: int | None = None

    def resync(self) -> None:
        """Frames were skipped: time the next output from its own tag again."""
        self._next_pts = None

    def convert(self, frame: bytes, timestamp_ms: int) -> list[tuple[bytes, int]]:
        """Opus packets (with 48 kHz timestamps) for one AAC frame at ``timestamp_ms``."""
        packet = self._av.Packet(frame)
        packet.pts = timestamp_ms
        packet.time_base = Fraction(1, 1000)
        out: list[tuple[bytes, int]] = []
        for decoded in self._decoder.decode(packet):
            decoded.pts = None
            for chunk in self._resampler.resample(decoded):
                if self._next_pts is None:
                    self._next_pts = timestamp_ms * AUDIO_CLOCK // 1000
                chunk.pts = self._next_pts
                chunk.time_base = Fraction(1, AUDIO_CLOCK)
                self._next_pts += chunk.samples
                for encoded in self._encoder.encode(chunk):
                    pts = encoded.pts if encoded.pts is not None else chunk.pts
                    out.append((bytes(encoded), int(pts)))
        return out


@dataclass
class RtmpRelayTap:
    """The tap of one RTMP publish: video inline, audio through a worker (``MediaTap``)."""

    relay: SessionRelay
    video: AvcToAnnexB = field(default_factory=AvcToAnnexB)
    audio_limit: int = AUDIO_QUEUE
    dropped_audio: int = 0
    _queue: asyncio.Queue[FlvTag | None] | None = None
    _worker: asyncio.Task[None] | None = None
    _broken: bool = False

    def start(self, first: Sequence[FlvTag]) -> None:
        """Take the tags seen while probing and start the audio worker."""
        self._queue = asyncio.Queue(self.audio_limit)
        self._worker = asyncio.create_task(
            self._audio_worker(), name=f"rtmp-relay-audio-{self.relay.session_id}"
        )
        for tag in first:
            self.tag(tag)

    def tag(self, tag: FlvTag) -> None:
        """One FLV tag: video goes to the relay now, audio to the worker's queue."""
        if tag.kind is TagType.VIDEO:
            if self._broken:
                return
            try:
                unit = self.video.push(tag)
            except InvalidMedia as exc:
                log.warning("session %s: WebRTC relay stops: %s", self.relay.session_id, exc)
                self._broken = True
                return
            if unit is not None:
                self.relay.publish_video(unit.data, unit.pts, unit.keyframe)
        elif tag.kind is TagType.AUDIO and self._queue is not None:
            try:
                self._queue.put_nowait(tag)
            except asyncio.QueueFull:
                self.dropped_audio += 1

    async def _audio_worker(self) -> None:
        assert self._queue is not None
        converter: AacToOpus | None = None
        while (tag := await self._queue.get()) is not None:
            config = aac_config(tag)
            if config is not None:
                try:
                    converter = AacToOpus(config)
                except Exception as exc:  # PyAV raises its own error types
                    log.warning("session %s: no WebRTC audio: %s", self.relay.session_id, exc)
                    converter = None
                continue
            frame = aac_frame(tag)
            if frame is None or converter is None:
                continue
            if not self.relay.viewers:  # nobody listens: spare the CPU, restart the clock later
                converter.resync()
                continue
            try:
                packets = converter.convert(frame, tag.timestamp)
            except Exception as exc:  # a broken frame costs that frame only
                log.debug("session %s: AAC frame not converted: %s", self.relay.session_id, exc)
                continue
            for data, pts in packets:
                self.relay.publish_audio(data, pts)

    async def close(self) -> None:
        """The publish is over: the worker ends and the relay hears the source is gone."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self.relay.source_ended()


class RtmpRelayTaps:
    """The tap factory for ``MediaPlane.add_tap``: one ``RtmpRelayTap`` per RTMP publish of
    an H.264 source whose relay is not fed natively."""

    def __init__(self, hub: RelayHub) -> None:
        self.hub = hub

    def __call__(
        self, session: Session, source: SourceInfo, first: Sequence[FlvTag]
    ) -> RtmpRelayTap | None:
        """Open the tap (see ``TapFactory``)."""
        relay = self.hub.relay(session.id)
        if relay.native_source:
            return None
        tap = RtmpRelayTap(relay)
        tap.start(first)
        return tap
