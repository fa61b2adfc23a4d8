"""The interpreters' voice buffers and desk: exact bytes, silence, the bound, who is live."""

from __future__ import annotations

import pytest

from streaming.errors import InterpreterBusy
from streaming.interpretation import (
    BYTES_PER_SECOND,
    FRAME_BYTES,
    InterpretationDesk,
    VoiceBuffer,
)

FRAME = b"\x01\x02\x03\x04"


def test_take_answers_buffered_voice_first_then_silence() -> None:
    """A take longer than the voice gets the voice, then zero bytes up to the size asked."""
    buffer = VoiceBuffer()
    buffer.push(FRAME * 3)
    assert buffer.take(20) == FRAME * 3 + bytes(8)
    assert len(buffer) == 0


def test_take_never_pads_while_voice_is_buffered() -> None:
    """A take shorter than the voice is all voice; the rest waits for the next take."""
    buffer = VoiceBuffer()
    buffer.push(b"\x01\x00\x01\x00" * 4 + b"\x02\x00\x02\x00" * 4)
    assert buffer.take(16) == b"\x01\x00\x01\x00" * 4
    assert buffer.take(16) == b"\x02\x00\x02\x00" * 4


def test_take_of_an_empty_buffer_is_silence() -> None:
    """Nothing buffered: exactly the bytes asked for, all zero."""
    assert VoiceBuffer().take(3840) == bytes(3840)


def test_buffer_keeps_at_most_the_newest_max_buffered_seconds() -> None:
    """Pushing more than the bound drops the oldest voice: the delay never grows."""
    buffer = VoiceBuffer(max_seconds=0.01)  # 1920 bytes
    old = b"\x11" * 1920
    new = b"\x22" * 960
    buffer.push(old)
    buffer.push(new)
    assert len(buffer) == 1920 == buffer.limit
    assert buffer.dropped == 960
    assert buffer.take(1920) == b"\x11" * 960 + new


def test_default_bound_is_three_tenths_of_a_second() -> None:
    """The default buffer holds 0.3 s of 48 kHz stereo s16le at most."""
    assert VoiceBuffer().limit == int(0.3 * BYTES_PER_SECOND) == 57_600


def test_partial_frames_wait_for_their_rest() -> None:
    """Bytes of an incomplete sample frame are not handed out until the frame is whole."""
    buffer = VoiceBuffer()
    buffer.push(b"\x01\x02\x03")
    assert len(buffer) == 0
    buffer.push(b"\x04\x05")
    assert len(buffer) == FRAME_BYTES
    assert buffer.take(4) == FRAME


def test_take_of_a_partial_frame_size_pads_with_silence() -> None:
    """Asked for bytes that are not whole frames, the buffer still answers exactly that many."""
    buffer = VoiceBuffer()
    buffer.push(FRAME * 2)
    assert buffer.take(6) == FRAME + bytes(2)
    assert buffer.take(4) == FRAME


def test_desk_takes_silence_when_nobody_is_live() -> None:
    """A language without an interpreter reads as silence of the size asked."""
    assert InterpretationDesk().take("ses_a", "en", 3840) == bytes(3840)


def test_desk_hands_an_interpreters_voice_to_the_pipeline() -> None:
    """What a feed pushes is what the pipeline takes for that session and language only."""
    desk = InterpretationDesk(jitter=0)
    feed = desk.open("ses_a", "en")
    feed.push(FRAME * 10)
    assert desk.take("ses_a", "fi", 40) == bytes(40)
    assert desk.take("ses_b", "en", 40) == bytes(40)
    assert desk.take("ses_a", "en", 48) == FRAME * 10 + bytes(8)


def test_desk_tells_listeners_when_interpreters_go_live_and_drop() -> None:
    """An interpreter is live from their first voice, not from opening the booth; closing
    the feed drops them; each listener hears each change once."""
    desk = InterpretationDesk()
    seen: list[tuple[str, str, bool]] = []
    desk.on_change(lambda *change: seen.append(change))
    feed = desk.open("ses_a", "en")
    assert not desk.is_live("ses_a", "en")
    assert seen == []
    feed.push(FRAME)
    feed.push(FRAME)
    assert desk.is_live("ses_a", "en")
    assert desk.live_languages("ses_a") == ("en",)
    feed.close()
    feed.close()
    assert seen == [("ses_a", "en", True), ("ses_a", "en", False)]
    assert not desk.is_live("ses_a", "en")
    assert desk.live_languages("ses_a") == ()


def test_an_interpreter_who_never_spoke_leaves_without_a_notice() -> None:
    """A booth taken and given back before any voice came tells nobody (they were never
    live), and frees the language."""
    desk = InterpretationDesk()
    seen: list[bool] = []
    desk.on_change(lambda _s, _l, live: seen.append(live))
    desk.open("ses_a", "en").close()
    assert seen == []
    desk.open("ses_a", "en")


def test_second_interpreter_of_a_language_is_refused() -> None:
    """One interpreter per session and language: the second gets a message naming the language."""
    desk = InterpretationDesk()
    desk.open("ses_a", "en")  # not live yet (no voice), but the language is taken
    with pytest.raises(InterpreterBusy) as refused:
        desk.open("ses_a", "en")
    assert refused.value.message == (
        "an interpreter already publishes en for this session; "
        "they stop first (or their connection drops)"
    )
    desk.open("ses_a", "fi").push(FRAME)
    assert desk.live_languages("ses_a") == ("fi",)


def test_closed_feed_pushes_nothing_and_its_voice_is_gone() -> None:
    """After an interpreter drops, their buffered voice is not played and late pushes vanish."""
    desk = InterpretationDesk()
    feed = desk.open("ses_a", "en")
    feed.push(FRAME * 4)
    feed.close()
    feed.push(FRAME * 4)
    assert desk.take("ses_a", "en", 16) == bytes(16)
    again = desk.open("ses_a", "en")
    assert again is not feed
    assert desk.take("ses_a", "en", 16) == bytes(16)


def test_close_session_drops_every_interpreter_of_it() -> None:
    """A session's end drops its interpreters (and only its)."""
    desk = InterpretationDesk()
    for session_id, language in (("ses_a", "en"), ("ses_a", "fi"), ("ses_b", "en")):
        desk.open(session_id, language).push(FRAME)
    desk.close_session("ses_a")
    assert desk.live_languages("ses_a") == ()
    assert desk.live_languages("ses_b") == ("en",)


def test_failing_listener_does_not_stop_the_others() -> None:
    """A listener that raises is logged; the next one is still told."""
    desk = InterpretationDesk()
    seen: list[bool] = []

    def broken(session_id: str, language: str, live: bool) -> None:
        raise RuntimeError("boom")

    desk.on_change(broken)
    desk.on_change(lambda _s, _l, live: seen.append(live))
    feed = desk.open("ses_a", "en")
    feed.push(FRAME)
    feed.close()
    assert seen == [True, False]


def test_a_jitter_buffer_gathers_voice_before_giving_it_and_after_a_shortfall() -> None:
    """With a jitter allowance, silence comes until that much voice is buffered; then voice
    flows; a shortfall (the voice came late) pads with silence and gathers again."""
    buffer = VoiceBuffer(jitter=0.0004)  # 19 frames: 76 bytes
    assert buffer.jitter == 76
    buffer.push(b"\x01" * 40)
    assert buffer.take(8) == bytes(8)
    buffer.push(b"\x02" * 40)
    assert buffer.take(8) == b"\x01" * 8
    assert buffer.take(80) == b"\x01" * 32 + b"\x02" * 40 + bytes(8)
    buffer.push(b"\x03" * 40)
    assert buffer.take(8) == bytes(8)


def test_an_ear_hears_the_voice_in_20_ms_chunks_and_keeps_only_the_newest() -> None:
    """Voice pushed by the interpreter reaches every ear of that language in whole 20 ms
    chunks (3840 bytes), waking it; an ear keeps ten at most; an ear that left hears nothing."""
    desk = InterpretationDesk(jitter=0)
    woken: list[int] = []
    ear = desk.listen("ses_a", "en")
    ear.wake = lambda: woken.append(1)
    other = desk.listen("ses_a", "fi")
    feed = desk.open("ses_a", "en")
    feed.push(b"\x01" * 3000)
    assert ear.pop() is None
    feed.push(b"\x02" * 1000)
    assert ear.pop() == b"\x01" * 3000 + b"\x02" * 840
    assert woken == [1]
    assert other.pop() is None
    feed.push(bytes(3840 * 12))
    chunks = [c for c in iter(ear.pop, None)]
    assert len(chunks) == 10
    desk.unlisten(ear)
    feed.push(bytes(3840))
    assert ear.pop() is None
