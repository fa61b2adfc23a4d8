"""The fMP4 reader (init segments, fragments of a growing file) on hand-built boxes (no ffmpeg)."""

from __future__ import annotations

import struct

import pytest

from streaming.errors import InvalidMedia
from streaming.fmp4 import Fragment, parse_init, scan_fragments
from streaming.vocab import MediaKind

SYNC = 0x02000000
NON_SYNC = 0x01010000


def box(kind: str, payload: bytes) -> bytes:
    """An ISO BMFF box."""
    return struct.pack(">I4s", 8 + len(payload), kind.encode()) + payload


def full(kind: str, version: int, flags: int, payload: bytes) -> bytes:
    """An ISO BMFF full box."""
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def init_segment(*, audio: bool, timescale: int, trex_duration: int = 0) -> bytes:
    """A one-track init segment: H.264 High 3.1 1280x720, or AAC-LC 48 kHz stereo."""
    tkhd = full("tkhd", 0, 3, struct.pack(">5I", 0, 0, 1, 0, 0) + bytes(52) + bytes(8))
    mdhd = full("mdhd", 0, 0, struct.pack(">4I", 0, 0, timescale, 0) + bytes(4))
    if audio:
        hdlr = full("hdlr", 0, 0, bytes(4) + b"soun" + bytes(13))
        asc = bytes([0x11, 0x90])
        decoder = bytes([0x40, 0x15]) + bytes(11) + bytes([0x05, len(asc)]) + asc
        es = struct.pack(">HB", 1, 0) + bytes([0x04, len(decoder)]) + decoder + bytes([6, 1, 2])
        esds = full("esds", 0, 0, bytes([0x03, len(es)]) + es)
        entry = box("mp4a", bytes(6) + struct.pack(">H", 1) + bytes(8) + bytes(12) + esds)
    else:
        hdlr = full("hdlr", 0, 0, bytes(4) + b"vide" + bytes(13))
        avcc = box("avcC", bytes([1, 0x64, 0x00, 0x1F, 0xFF, 0xE0, 0]))
        visual = bytes(6) + struct.pack(">H", 1) + bytes(16) + struct.pack(">HH", 1280, 720)
        entry = box("avc1", visual + bytes(50) + avcc)
    stsd = full("stsd", 0, 0, struct.pack(">I", 1) + entry)
    trak = box("trak", tkhd + box("mdia", mdhd + hdlr + box("minf", box("stbl", stsd))))
    trex = full("trex", 0, 0, struct.pack(">5I", 1, 1, trex_duration, 0, SYNC))
    return box("ftyp", b"iso6" + bytes(4)) + box("moov", trak + box("mvex", trex))


def fragment(decode_time: int, samples: int, duration: int, *, first_flags: int | None) -> bytes:
    """A moof+mdat with default duration and non-sync default flags, optionally a sync first."""
    tfhd = full("tfhd", 0, 0x20028, struct.pack(">3I", 1, duration, NON_SYNC))
    tfdt = full("tfdt", 1, 0, struct.pack(">Q", decode_time))
    if first_flags is None:
        trun = full("trun", 0, 0x001, struct.pack(">Ii", samples, 0))
    else:
        trun = full("trun", 0, 0x005, struct.pack(">IiI", samples, 0, first_flags))
    moof = box("moof", full("mfhd", 0, 0, struct.pack(">I", 1)) + box("traf", tfhd + tfdt + trun))
    return moof + box("mdat", bytes(100 + samples))


def audio_fragment(decode_time: int, durations: list[int]) -> bytes:
    """A moof+mdat listing each sample's duration and size, no sample flags (trex's apply)."""
    tfhd = full("tfhd", 0, 0x20000, struct.pack(">I", 1))
    tfdt = full("tfdt", 0, 0, struct.pack(">I", decode_time))
    rows = b"".join(struct.pack(">II", d, 10) for d in durations)
    trun = full("trun", 0, 0x301, struct.pack(">Ii", len(durations), 0) + rows)
    moof = box("moof", box("traf", tfhd + tfdt + trun))
    return moof + box("mdat", bytes(10 * len(durations)))


STYP = box("styp", b"msdh" + bytes(4) + b"msdhmsix")


def test_video_init_gives_kind_timescale_codec_and_size() -> None:
    """The avcC profile, compatibility and level become the RFC 6381 codec string."""
    track = parse_init(init_segment(audio=False, timescale=15360))
    assert track.kind is MediaKind.VIDEO
    assert (track.timescale, track.codec, track.width, track.height) == (
        15360,
        "avc1.64001f",
        1280,
        720,
    )
    assert track.default_sample_flags == SYNC


def test_audio_init_gives_the_aac_object_type() -> None:
    """The esds decoder config (0x40) and AudioSpecificConfig (AAC-LC) make mp4a.40.2."""
    track = parse_init(init_segment(audio=True, timescale=48000, trex_duration=1024))
    assert (track.kind, track.timescale, track.codec) == (MediaKind.AUDIO, 48000, "mp4a.40.2")
    assert track.default_sample_duration == 1024


def test_init_without_a_movie_box_is_refused() -> None:
    """A file that is not an init segment says which box is missing."""
    with pytest.raises(InvalidMedia) as caught:
        parse_init(box("ftyp", b"iso6" + bytes(4)))
    assert str(caught.value) == "no moov box where one is required"


def test_truncated_init_is_refused() -> None:
    """An init segment cut short is reported, not misread."""
    data = init_segment(audio=False, timescale=15360)
    with pytest.raises(InvalidMedia) as caught:
        parse_init(data[:60])
    assert str(caught.value) == "box at byte 16 runs past its container"
    with pytest.raises(InvalidMedia) as caught:
        parse_init(data[:12])
    assert str(caught.value) == "box at byte 0 runs past its container"


def test_fragments_span_the_file_and_know_their_keyframes() -> None:
    """Fragment 0 starts at byte 0 (with styp); each ends where its mdat ends."""
    track = parse_init(init_segment(audio=False, timescale=15360))
    first = fragment(15360, 6, 512, first_flags=SYNC)
    second = fragment(18432, 6, 512, first_flags=None)
    data = STYP + first + second
    assert scan_fragments(data, track) == [
        Fragment(0, len(STYP) + len(first), 15360, 3072, 6, True),
        Fragment(len(STYP) + len(first), len(second), 18432, 3072, 6, False),
    ]


def test_a_fragment_still_being_written_is_not_reported() -> None:
    """A trailing moof without its mdat, or a box cut short, waits for more bytes."""
    track = parse_init(init_segment(audio=False, timescale=15360))
    complete = STYP + fragment(0, 6, 512, first_flags=SYNC)
    following = fragment(3072, 6, 512, first_flags=None)
    assert len(scan_fragments(complete + following[:-1], track)) == 1
    moof_only = following[: following.index(b"mdat") - 4]
    assert len(scan_fragments(complete + moof_only, track)) == 1
    assert scan_fragments(STYP[:5], track) == []


def test_audio_fragments_sum_sample_durations_and_use_trex_flags() -> None:
    """Per-sample durations add up; AAC samples are sync samples by the trex default."""
    track = parse_init(init_segment(audio=True, timescale=48000, trex_duration=1024))
    data = STYP + audio_fragment(0, [1024] * 10)
    [only] = scan_fragments(data, track)
    assert (only.duration, only.samples, only.independent, only.length) == (
        10240,
        10,
        True,
        len(data),
    )


def test_two_moofs_without_mdat_are_refused() -> None:
    """A moof must be followed by its mdat."""
    track = parse_init(init_segment(audio=False, timescale=15360))
    moof = fragment(0, 6, 512, first_flags=SYNC)
    moof = moof[: moof.index(b"mdat") - 4]
    with pytest.raises(InvalidMedia) as caught:
        scan_fragments(STYP + moof + moof + box("mdat", b""), track)
    assert str(caught.value) == f"moof at byte {len(STYP) + len(moof)} follows a moof without mdat"
