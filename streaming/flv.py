"""FLV tags as an RTMP publisher sends them: inspect them, probe the source, re-mux them for ffmpeg.

Pure. ``IngestProbe`` buffers a publish's first tags until the source is known (``SourceInfo``):
at its second keyframe, or, when asked to decide ``early``, a moment after its first, with the
keyframe interval assumed (``KeyframeCheck`` then tells the interval once the second comes);
``FlvFeed`` writes the byte stream one ffmpeg run reads (header, metadata, configurations, then
tags from a keyframe on; ``restart`` starts over at the next keyframe; ``changes_config`` tells
when the source's parameter sets changed under a run). See
``docs/architecture.md`` ("Publish and unpublish").
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from streaming.errors import InvalidMedia
from streaming.ladder import SourceInfo
from streaming.vocab import VideoCodec

FLV_CODEC_AVC = 7
FLV_SOUND_AAC = 10
_FRAME_KEY = 1
_EX_HEADER = 0x80
_PACKET_SEQUENCE_HEADER = 0
_PACKET_NALU = 1
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
MAX_TIMESTAMP = 0xFFFFFFFF


class TagType(enum.IntEnum):
    """The FLV tag types (the RTMP message type ids of the same media)."""

    AUDIO = 8
    VIDEO = 9
    SCRIPT = 18


@dataclass(frozen=True)
class FlvTag:
    """One FLV tag: its type, its timestamp in milliseconds and its body."""

    kind: TagType
    timestamp: int
    payload: bytes

    @property
    def is_video_config(self) -> bool:
        """An AVC sequence header (the decoder configuration record)."""
        p = self.payload
        return (
            self.kind is TagType.VIDEO
            and len(p) >= 2
            and not p[0] & _EX_HEADER
            and p[0] & 0x0F == FLV_CODEC_AVC
            and p[1] == _PACKET_SEQUENCE_HEADER
        )

    @property
    def is_audio_config(self) -> bool:
        """An AAC sequence header (the AudioSpecificConfig)."""
        p = self.payload
        return (
            self.kind is TagType.AUDIO
            and len(p) >= 2
            and p[0] >> 4 == FLV_SOUND_AAC
            and p[1] == _PACKET_SEQUENCE_HEADER
        )

    @property
    def is_frame(self) -> bool:
        """A coded video frame (not a configuration or end-of-sequence tag)."""
        p = self.payload
        if self.kind is not TagType.VIDEO or len(p) < 2 or p[0] & _EX_HEADER:
            return False
        return p[0] & 0x0F != FLV_CODEC_AVC or p[1] == _PACKET_NALU

    @property
    def is_keyframe(self) -> bool:
        """A coded video frame a decoder can start at."""
        return self.is_frame and self.payload[0] >> 4 == _FRAME_KEY


def flv_header(*, audio: bool, video: bool) -> bytes:
    """The FLV file header and the zero PreviousTagSize0 that follows it."""
    flags = (0x04 if audio else 0) | (0x01 if video else 0)
    return b"FLV\x01" + bytes([flags]) + struct.pack(">I", 9) + bytes(4)


def encode_tag(kind: TagType, timestamp: int, payload: bytes) -> bytes:
    """One FLV tag and its PreviousTagSize."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InvalidMedia(f"FLV timestamp {timestamp} is out of range")
    if len(payload) >= 1 << 24:
        raise InvalidMedia("FLV tag body is larger than 16 MiB")
    header = (
        bytes([int(kind)])
        + len(payload).to_bytes(3, "big")
        + (timestamp & 0xFFFFFF).to_bytes(3, "big")
        + bytes([timestamp >> 24])
        + bytes(3)
    )
    return header + payload + struct.pack(">I", 11 + len(payload))


def script_body(data_message: bytes) -> bytes:
    """The ``onMetaData`` script tag body of an RTMP ``@setDataFrame`` data message.

    RTMP publishers wrap the metadata in ``@setDataFrame``; the FLV script tag holds what follows
    that first AMF0 string. A body that does not start with it is returned unchanged.
    """
    marker = b"\x02\x00\x0d@setDataFrame"
    if data_message.startswith(marker):
        return data_message[len(marker) :]
    return data_message


# --- H.264 decoder configuration --------------------------------------------------------------


class _Bits:
    """An MSB-first bit reader over an RBSP (emulation prevention bytes already removed)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def bit(self) -> int:
        if self.pos >= len(self.data) * 8:
            raise InvalidMedia("SPS is truncated")
        value = (self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise InvalidMedia("SPS has an exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value % 2 else -(value // 2)


def _rbsp(nal: bytes) -> bytes:
    """Remove emulation prevention bytes (``00 00 03`` → ``00 00``)."""
    out = bytearray()
    zeros = 0
    for byte in nal:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following != 0:
            following = (last + bits.se() + 256) % 256
        last = following if following != 0 else last


def sps_size(sps: bytes) -> tuple[int, int]:
    """The displayed (cropped) picture size an H.264 sequence parameter set describes."""
    bits = _Bits(_rbsp(sps))
    if bits.bits(8) & 0x1F != 7:
        raise InvalidMedia("not an H.264 SPS NAL unit")
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    chroma_format = 1
    if profile in _HIGH_PROFILES:
        chroma_format = bits.ue()
        if chroma_format == 3:
            bits.bit()  # separate_colour_plane_flag
        bits.ue()  # bit_depth_luma_minus8
        bits.ue()  # bit_depth_chroma_minus8
        bits.bit()  # qpprime_y_zero_transform_bypass_flag
        if bits.bit():  # seq_scaling_matrix_present_flag
            for index in range(8 if chroma_format != 3 else 12):
                if bits.bit():
                    _skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.bit()
        bits.se()
        bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.bit()  # gaps_in_frame_num_value_allowed_flag
    width_mbs = bits.ue() + 1
    height_units = bits.ue() + 1
    frame_mbs_only = bits.bit()
    if not frame_mbs_only:
        bits.bit()  # mb_adaptive_frame_field_flag
    bits.bit()  # direct_8x8_inference_flag
    width = width_mbs * 16
    height = (2 - frame_mbs_only) * height_units * 16
    if bits.bit():  # frame_cropping_flag
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        unit_x = 1 if chroma_format in (0, 3) else 2
        unit_y = (2 - frame_mbs_only) * (2 if chroma_format == 1 else 1)
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
    if width <= 0 or height <= 0:
        raise InvalidMedia("SPS crops the picture away")
    return width, height


def avc_config_size(tag: FlvTag) -> tuple[int, int]:
    """The picture size of an AVC sequence header tag (its first SPS)."""
    record = tag.payload[5:]
    try:
        if record[0] != 1 or record[5] & 0x1F < 1:
            raise InvalidMedia("AVC decoder configuration record without an SPS")
        (length,) = struct.unpack_from(">H", record, 6)
        sps = record[8 : 8 + length]
        if len(sps) != length:
            raise InvalidMedia("AVC decoder configuration record is truncated")
    except (IndexError, struct.error) as exc:
        raise InvalidMedia("AVC decoder configuration record is truncated") from exc
    return sps_size(sps)


# --- the probe ----------------------------------------------------------------------------------


def _number(metadata: Mapping[str, object], *keys: str) -> float | None:
    for key in keys:
        value = metadata.get(key)
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and value > 0
        ):
            return float(value)
    return None


EARLY_FRAMES = 5  # frames after the first keyframe an early decision measures the rate over


@dataclass
class IngestProbe:
    """Buffers a publish's first tags until the source is known (see the module docstring).

    With ``early`` (seconds) and ``assumed_gop``, the source is decided once its frames span
    ``early`` s from the first keyframe (``EARLY_FRAMES`` at least), keyframes assumed every
    ``assumed_gop`` s: ffmpeg can start while the first GOP is still coming in.
    """

    max_gop: float
    max_bytes: int = 32 * 1024 * 1024
    early: float | None = None
    assumed_gop: float | None = None
    metadata: dict[str, object] = field(default_factory=dict)
    buffered: list[FlvTag] = field(default_factory=list)
    source: SourceInfo | None = None
    provisional: bool = False  # decided early: the keyframe interval is assumed
    _size: tuple[int, int] | None = None
    _keyframes: list[int] = field(default_factory=list)
    _frames: int = 0
    _video_bytes: int = 0
    _key_bytes: int = 0
    _audio: bool = False
    _bytes: int = 0

    def set_metadata(self, values: Mapping[str, object]) -> None:
        """Remember what ``onMetaData`` said (size, frame rate, data rates, codecs)."""
        self.metadata = dict(values)

    def add(self, tag: FlvTag) -> SourceInfo | None:
        """Buffer ``tag``; return the source once it is known (then stop calling ``add``)."""
        if self.source is not None:
            raise InvalidMedia("the probe has already decided")
        self.buffered.append(tag)
        self._bytes += len(tag.payload)
        if self._bytes > self.max_bytes:
            raise InvalidMedia(f"no usable H.264 keyframes in the first {self.max_bytes} bytes")
        if tag.kind is TagType.AUDIO:
            self._audio = True
        elif tag.kind is TagType.VIDEO and tag.payload:
            first = tag.payload[0]
            if first & _EX_HEADER or first & 0x0F != FLV_CODEC_AVC:
                raise InvalidMedia("only H.264 video is accepted over RTMP (use x264 or similar)")
            if tag.is_video_config:
                try:
                    self._size = avc_config_size(tag)
                except InvalidMedia:
                    self._size = None
            elif tag.is_frame and (self._keyframes or tag.is_keyframe):
                if tag.is_keyframe:
                    self._keyframes.append(tag.timestamp)
                    if len(self._keyframes) == 1:
                        self._key_bytes = len(tag.payload)
                if len(self._keyframes) < 2:
                    self._frames += 1
                    self._video_bytes += len(tag.payload)
        if not self._keyframes or not any(t.is_video_config for t in self.buffered):
            return None
        first = self._keyframes[0]
        elapsed = (tag.timestamp - first) / 1000
        if len(self._keyframes) >= 2:
            span = (self._keyframes[1] - first) / 1000
        elif (
            self.early is not None
            and tag.kind is TagType.VIDEO
            and self._frames >= EARLY_FRAMES
            and elapsed >= self.early
        ):
            # ``_frames`` counts both ends of the elapsed time: one interval fewer.
            self.provisional = True
            self.source = self._decide(elapsed, self._frames - 1, self.assumed_gop)
            return self.source
        elif (tag.timestamp - first) / 1000 > self.max_gop + 0.25:
            span = (tag.timestamp - first) / 1000
        else:
            return None
        self.source = self._decide(max(span, 0.001), self._frames, round(span, 3))
        return self.source

    @property
    def first_keyframe(self) -> int | None:
        """The timestamp (ms) of the first keyframe, once seen."""
        return self._keyframes[0] if self._keyframes else None

    def _decide(self, span: float, frames: int, keyframe_interval: float | None) -> SourceInfo:
        size = self._size
        if size is None:
            width = _number(self.metadata, "width")
            height = _number(self.metadata, "height")
            if width is None or height is None:
                raise InvalidMedia("the picture size is neither in the SPS nor in onMetaData")
            size = (int(width), int(height))
        fps = _number(self.metadata, "framerate", "fps") or frames / span
        if not 1 <= fps <= 240:
            fps = 30.0
        rate = _number(self.metadata, "videodatarate")
        if rate:
            bitrate = int(rate * 1000)
        elif self.provisional and keyframe_interval:
            # A GOP as assumed: the first keyframe, then frames like those seen since.
            later = (self._video_bytes - self._key_bytes) / max(self._frames - 1, 1)
            gop = self._key_bytes + later * max(fps * keyframe_interval - 1, 0)
            bitrate = int(gop * 8 / keyframe_interval)
        else:
            bitrate = int(self._video_bytes * 8 / span)
        has_audio = self._audio or _number(self.metadata, "audiocodecid") is not None
        return SourceInfo(
            width=size[0],
            height=size[1],
            fps=round(fps, 3),
            video_codec=VideoCodec.H264,
            has_audio=has_audio,
            video_bitrate=max(bitrate, 100_000),
            keyframe_interval=keyframe_interval,
        )


@dataclass
class KeyframeCheck:
    """After an early decision: the source's first keyframe interval, once known (its second
    keyframe came, or ``max_gop`` and a quarter second passed without one)."""

    first: int  # the first keyframe's timestamp (ms)
    max_gop: float

    def add(self, tag: FlvTag) -> float | None:
        """The interval in seconds once ``tag`` tells it, else None."""
        elapsed = (tag.timestamp - self.first) / 1000
        if tag.kind is TagType.VIDEO and tag.is_keyframe and tag.timestamp > self.first:
            return round(elapsed, 3)
        if elapsed > self.max_gop + 0.25:
            return round(elapsed, 3)
        return None


# --- the byte stream of one ffmpeg run -----------------------------------------------------------


class StreamHeads:
    """The latest ``onMetaData`` and codec configurations of a publish: what a reader that
    joins the stream needs before its first keyframe."""

    __slots__ = ("audio_config", "script", "video_config")

    def __init__(self) -> None:
        self.script: FlvTag | None = None
        self.video_config: FlvTag | None = None
        self.audio_config: FlvTag | None = None

    def remember(self, tag: FlvTag) -> bool:
        """Keep ``tag`` in place of its predecessor when it is one of them; True if it was."""
        if tag.kind is TagType.SCRIPT:
            self.script = tag
        elif tag.is_video_config:
            self.video_config = tag
        elif tag.is_audio_config:
            self.audio_config = tag
        else:
            return False
        return True

    def tags(self) -> list[FlvTag]:
        """The ones seen, in the order a stream starts with them."""
        return [t for t in (self.script, self.video_config, self.audio_config) if t is not None]


@dataclass
class FlvFeed:
    """Re-muxes a publish's tags into the FLV stream one ffmpeg run reads (see module docstring)."""

    has_audio: bool
    heads: StreamHeads = field(default_factory=StreamHeads)
    _base: int | None = None
    _run_config: bytes | None = None

    @property
    def started(self) -> bool:
        """Whether the current run has had its header and first keyframe."""
        return self._base is not None

    def restart(self) -> None:
        """Start over for a new ffmpeg run: header and configurations again, at a keyframe."""
        self._base = None
        self._run_config = None

    def changes_config(self, tag: FlvTag) -> bool:
        """Whether ``tag`` is a video configuration (SPS/PPS) other than the one the current
        run started with: its output cannot follow (a passed-through rendition's init segment
        holds the first one), so a new run must start here."""
        return (
            tag.is_video_config
            and self._run_config is not None
            and tag.payload[5:] != self._run_config[5:]
        )

    def push(self, tag: FlvTag) -> bytes:
        """The bytes to write to ffmpeg for ``tag`` (empty while waiting for a keyframe)."""
        if self.heads.remember(tag):
            if self._base is None or tag.kind is TagType.SCRIPT:
                return b""
            return encode_tag(tag.kind, max(0, tag.timestamp - self._base), tag.payload)
        if self._base is None:
            if not tag.is_keyframe or self.heads.video_config is None:
                return b""
            self._base = tag.timestamp
            self._run_config = self.heads.video_config.payload
            out = [flv_header(audio=self.has_audio, video=True)]
            for head in self.heads.tags():
                out.append(encode_tag(head.kind, 0, head.payload))
            out.append(encode_tag(tag.kind, 0, tag.payload))
            return b"".join(out)
        offset = tag.timestamp - self._base
        if offset < 0 or (tag.kind is TagType.AUDIO and not self.has_audio):
            return b""
        return encode_tag(tag.kind, offset, tag.payload)


def parse_flv(data: bytes) -> list[FlvTag]:
    """The complete tags of an FLV byte stream (a trailing incomplete tag is left out)."""
    if len(data) < 13 or not data.startswith(b"FLV"):
        raise InvalidMedia("not an FLV stream")
    (offset,) = struct.unpack_from(">I", data, 5)
    pos = offset + 4
    tags: list[FlvTag] = []
    while pos + 11 <= len(data):
        kind = data[pos]
        size = int.from_bytes(data[pos + 1 : pos + 4], "big")
        timestamp = int.from_bytes(data[pos + 4 : pos + 7], "big") | data[pos + 7] << 24
        end = pos + 11 + size
        if end + 4 > len(data):
            break
        if kind in (8, 9, 18):
            tags.append(FlvTag(TagType(kind), timestamp, data[pos + 11 : end]))
        pos = end + 4
    return tags


@dataclass(frozen=True)
class IngestClock:
    """When a publisher's tags were taken in, by the wall clock: its first tag's arrival and
    timestamp; a later tag's moment follows from its timestamp (publishers send in real time),
    however long it was held before ffmpeg got it (the probe, the "starting soon" slate)."""

    arrived: datetime
    timestamp: int  # ms, the first tag's

    def taken_in(self, tag: FlvTag) -> datetime:
        """The wall clock when ``tag``'s picture or sound was taken in."""
        return self.arrived + timedelta(milliseconds=tag.timestamp - self.timestamp)
