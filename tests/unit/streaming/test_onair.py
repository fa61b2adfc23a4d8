"""What is on air for each session state and ingest, and the ingest held while it is not (pure)."""

from __future__ import annotations

import pytest

from streaming.flv import FlvTag, TagType
from streaming.onair import GopBuffer, on_air
from streaming.vocab import OnAir
from studio.states import SessionState

S = SessionState

# (state, ingest up, slates on) -> what the playlists carry.
TABLE: list[tuple[SessionState, bool, bool, OnAir]] = [
    (S.SCHEDULED, False, True, OnAir.OFF),
    (S.SCHEDULED, True, True, OnAir.STARTING_SOON),
    (S.READY, True, True, OnAir.STARTING_SOON),
    (S.READY, False, True, OnAir.OFF),
    (S.LIVE, True, True, OnAir.INGEST),
    (S.LIVE, False, True, OnAir.BE_RIGHT_BACK),
    (S.ENDED, True, True, OnAir.OFF),
    (S.ENDED, False, True, OnAir.OFF),
    (S.REPLAY, False, True, OnAir.OFF),
    (S.REPLAY, True, True, OnAir.OFF),
    (S.CANCELLED, True, True, OnAir.OFF),
    (S.CANCELLED, False, True, OnAir.OFF),
    (S.SCHEDULED, False, False, OnAir.OFF),
    (S.READY, True, False, OnAir.INGEST),
    (S.READY, False, False, OnAir.OFF),
    (S.LIVE, True, False, OnAir.INGEST),
    (S.LIVE, False, False, OnAir.SILENT),
    (S.ENDED, True, False, OnAir.OFF),
]


@pytest.mark.parametrize(("state", "ingest", "slate", "expected"), TABLE)
def test_what_is_on_air(state: SessionState, ingest: bool, slate: bool, expected: OnAir) -> None:
    """Each (state, ingest, slate setting) puts exactly the table's content on air."""
    assert on_air(state, ingest, slate=slate) is expected


def test_the_table_covers_every_state() -> None:
    """No session state is left without a decision, with or without an ingest."""
    covered = {(state, ingest) for state, ingest, slate, _ in TABLE if slate}
    assert covered == {(state, ingest) for state in S for ingest in (True, False)}


AVC_CONFIG = FlvTag(TagType.VIDEO, 0, b"\x17\x00\x00\x00\x00config")
AAC_CONFIG = FlvTag(TagType.AUDIO, 0, b"\xaf\x00\x12\x10")
SCRIPT = FlvTag(TagType.SCRIPT, 0, b"meta")


def key(ms: int, size: int = 10) -> FlvTag:
    """A keyframe at ``ms``."""
    return FlvTag(TagType.VIDEO, ms, b"\x17\x01\x00\x00\x00" + b"k" * size)


def inter(ms: int, size: int = 10) -> FlvTag:
    """A non-key frame at ``ms``."""
    return FlvTag(TagType.VIDEO, ms, b"\x27\x01\x00\x00\x00" + b"p" * size)


def sound(ms: int) -> FlvTag:
    """An AAC frame at ``ms``."""
    return FlvTag(TagType.AUDIO, ms, b"\xaf\x01" + b"a" * 8)


def test_gop_buffer_keeps_configurations_and_the_latest_gop() -> None:
    """Held: the latest configurations, then everything from the latest keyframe on; media
    before the first keyframe and older GOPs are dropped."""
    held = GopBuffer()
    for tag in (SCRIPT, AVC_CONFIG, AAC_CONFIG, sound(0), inter(10), key(33), sound(40)):
        held.push(tag)
    for tag in (inter(66), key(1000), sound(1010), inter(1033)):
        held.push(tag)
    assert held.take() == [SCRIPT, AVC_CONFIG, AAC_CONFIG, key(1000), sound(1010), inter(1033)]
    assert held.size == 0
    assert held.take() == [SCRIPT, AVC_CONFIG, AAC_CONFIG]


def test_gop_buffer_drops_a_gop_that_outgrows_its_limit() -> None:
    """A GOP larger than the limit is dropped; the buffer waits for the next keyframe."""
    held = GopBuffer(max_bytes=100)
    held.push(AVC_CONFIG)
    held.push(key(0, 40))
    held.push(inter(33, 40))
    assert held.size == 2 * 45
    held.push(inter(66, 40))  # would pass 100 bytes
    held.push(inter(99, 40))
    assert held.size == 0
    assert held.take() == [AVC_CONFIG]
    held.push(key(1000, 40))
    assert held.take() == [AVC_CONFIG, key(1000, 40)]
