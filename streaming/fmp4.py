"""Reading what ffmpeg's dash muxer writes: fragmented-MP4 (CMAF) init and media segments.

Pure: ``parse_init`` gives a ``TrackInfo`` (kind, timescale, RFC 6381 codec, size);
``scan_fragments`` the complete ``moof``+``mdat`` pairs of a segment that may still be growing
(an incomplete trailing box is ignored). See ``docs/architecture.md`` ("How parts are made").
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from streaming.errors import InvalidMedia
from streaming.vocab import MediaKind

_NON_SYNC = 0x10000


@dataclass(frozen=True)
class TrackInfo:
    """The single track of an init segment."""

    kind: MediaKind
    track_id: int
    timescale: int
    codec: str
    width: int
    height: int
    default_sample_duration: int
    default_sample_flags: int


@dataclass(frozen=True)
class Fragment:
    """One complete moof+mdat pair (a CMAF chunk: an LL-HLS part) within a segment file."""

    offset: int
    length: int
    decode_time: int
    duration: int
    samples: int
    independent: bool


def _boxes(data: bytes, start: int, end: int, *, strict: bool) -> Iterator[tuple[str, int, int]]:
    """Yield (type, body start, box end) of the boxes in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, raw = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            if strict:
                raise InvalidMedia(f"box at byte {pos} runs past its container")
            return
        yield raw.decode("latin-1"), pos + header, pos + size
        pos += size
    if strict and pos != end:
        raise InvalidMedia(f"truncated box header at byte {pos}")


def _child(data: bytes, start: int, end: int, kind: str) -> tuple[int, int]:
    for box, body, box_end in _boxes(data, start, end, strict=True):
        if box == kind:
            return body, box_end
    raise InvalidMedia(f"no {kind} box where one is required")


def _u32(data: bytes, pos: int) -> int:
    return int(struct.unpack_from(">I", data, pos)[0])


def _descriptor(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """Read an MPEG-4 descriptor header: (tag, body start, body end)."""
    tag = data[pos]
    pos += 1
    length = 0
    for _ in range(4):
        if pos >= end:
            raise InvalidMedia("truncated esds descriptor")
        byte = data[pos]
        pos += 1
        length = (length << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return tag, pos, min(end, pos + length)


def _aac_codec(data: bytes, body: int, end: int) -> str:
    esds, esds_end = _child(data, body + 28, end, "esds")
    tag, pos, es_end = _descriptor(data, esds + 4, esds_end)
    if tag != 0x03:
        raise InvalidMedia("esds does not start with an ES descriptor")
    flags = data[pos + 2]
    pos += 3
    if flags & 0x80:
        pos += 2
    if flags & 0x40:
        pos += 1 + data[pos]
    if flags & 0x20:
        pos += 2
    tag, pos, config_end = _descriptor(data, pos, es_end)
    if tag != 0x04:
        raise InvalidMedia("esds has no decoder config descriptor")
    object_type = data[pos]
    tag, info, _ = _descriptor(data, pos + 13, config_end)
    if tag != 0x05:
        return f"mp4a.{object_type:02x}"
    audio_object_type = data[info] >> 3
    if audio_object_type == 31:
        audio_object_type = 32 + (((data[info] & 0x07) << 3) | (data[info + 1] >> 5))
    return f"mp4a.{object_type:02x}.{audio_object_type}"


def parse_init(data: bytes) -> TrackInfo:
    """Read the track of an init segment (ffmpeg's dash muxer writes one track per file)."""
    try:
        moov, moov_end = _child(data, 0, len(data), "moov")
        trak, trak_end = _child(data, moov, moov_end, "trak")
        tkhd, _ = _child(data, trak, trak_end, "tkhd")
        track_id = _u32(data, tkhd + (20 if data[tkhd] == 1 else 12))
        mdia, mdia_end = _child(data, trak, trak_end, "mdia")
        mdhd, _ = _child(data, mdia, mdia_end, "mdhd")
        timescale = _u32(data, mdhd + (20 if data[mdhd] == 1 else 12))
        hdlr, _ = _child(data, mdia, mdia_end, "hdlr")
        handler = data[hdlr + 8 : hdlr + 12]
        minf, minf_end = _child(data, mdia, mdia_end, "minf")
        stbl, stbl_end = _child(data, minf, minf_end, "stbl")
        stsd, stsd_end = _child(data, stbl, stbl_end, "stsd")
        entries = list(_boxes(data, stsd + 8, stsd_end, strict=True))
        if not entries:
            raise InvalidMedia("stsd has no sample entry")
        entry, body, end = entries[0]
        width = height = 0
        if handler == b"vide":
            kind = MediaKind.VIDEO
            width, height = struct.unpack_from(">HH", data, body + 24)
            if entry in ("avc1", "avc3"):
                avcc, _ = _child(data, body + 78, end, "avcC")
                profile, compat, level = data[avcc + 1 : avcc + 4]
                codec = f"{entry}.{profile:02x}{compat:02x}{level:02x}"
            else:
                codec = entry
        elif handler == b"soun":
            kind = MediaKind.AUDIO
            codec = _aac_codec(data, body, end) if entry == "mp4a" else entry
        else:
            raise InvalidMedia(f"unsupported track handler {handler!r}")
        duration = flags = 0
        for box, mvex, mvex_end in _boxes(data, moov, moov_end, strict=True):
            if box == "mvex":
                for inner, trex, _ in _boxes(data, mvex, mvex_end, strict=True):
                    if inner == "trex" and _u32(data, trex + 4) == track_id:
                        duration = _u32(data, trex + 12)
                        flags = _u32(data, trex + 20)
    except (struct.error, IndexError) as exc:
        raise InvalidMedia(f"init segment is truncated ({exc})") from exc
    if timescale == 0:
        raise InvalidMedia("init segment has a zero timescale")
    return TrackInfo(kind, track_id, timescale, codec, width, height, duration, flags)


def _parse_moof(
    data: bytes, moof: int, moof_end: int, track: TrackInfo
) -> tuple[int, int, int, bool]:
    """Return (decode time, duration, sample count, independent) of a moof's first traf."""
    traf, traf_end = _child(data, moof, moof_end, "traf")
    tfhd, _ = _child(data, traf, traf_end, "tfhd")
    tf_flags = _u32(data, tfhd) & 0xFFFFFF
    pos = tfhd + 8
    pos += 8 if tf_flags & 0x01 else 0
    pos += 4 if tf_flags & 0x02 else 0
    default_duration = track.default_sample_duration
    if tf_flags & 0x08:
        default_duration = _u32(data, pos)
        pos += 4
    pos += 4 if tf_flags & 0x10 else 0
    default_flags = _u32(data, pos) if tf_flags & 0x20 else track.default_sample_flags
    tfdt, _ = _child(data, traf, traf_end, "tfdt")
    if data[tfdt] == 1:
        (decode_time,) = struct.unpack_from(">Q", data, tfdt + 4)
    else:
        decode_time = _u32(data, tfdt + 4)
    duration = samples = 0
    first_flags: int | None = None
    for box, trun, _ in _boxes(data, traf, traf_end, strict=True):
        if box != "trun":
            continue
        tr_flags = _u32(data, trun) & 0xFFFFFF
        count = _u32(data, trun + 4)
        pos = trun + 8 + (4 if tr_flags & 0x01 else 0)
        if tr_flags & 0x04:
            if first_flags is None:
                first_flags = _u32(data, pos)
            pos += 4
        for index in range(count):
            sample_duration = default_duration
            if tr_flags & 0x100:
                sample_duration = _u32(data, pos)
                pos += 4
            pos += 4 if tr_flags & 0x200 else 0
            if tr_flags & 0x400:
                if index == 0 and first_flags is None:
                    first_flags = _u32(data, pos)
                pos += 4
            pos += 4 if tr_flags & 0x800 else 0
            duration += sample_duration
        samples += count
    if samples == 0:
        raise InvalidMedia(f"fragment at byte {moof} has no samples")
    flags = default_flags if first_flags is None else first_flags
    return int(decode_time), duration, samples, not flags & _NON_SYNC


def scan_fragments(data: bytes, track: TrackInfo) -> list[Fragment]:
    """The complete fragments of a (possibly still growing) media segment, in order."""
    fragments: list[Fragment] = []
    region_start = 0
    pending: tuple[int, int, int, bool] | None = None
    try:
        for box, body, end in _boxes(data, 0, len(data), strict=False):
            if box == "moof":
                if pending is not None:
                    raise InvalidMedia(f"moof at byte {body - 8} follows a moof without mdat")
                pending = _parse_moof(data, body, end, track)
            elif box == "mdat" and pending is not None:
                decode_time, duration, samples, independent = pending
                fragments.append(
                    Fragment(
                        region_start,
                        end - region_start,
                        decode_time,
                        duration,
                        samples,
                        independent,
                    )
                )
                region_start = end
                pending = None
    except (struct.error, IndexError) as exc:
        raise InvalidMedia(f"fragment is truncated ({exc})") from exc
    return fragments
