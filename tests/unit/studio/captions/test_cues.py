"""The rules a caption line passes before it is kept, and how its times are chosen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from studio.captions.cues import (
    CaptionPatch,
    Cue,
    check_language,
    check_live,
    clean_line,
    corrected,
    cue_times,
    recording_zero_ms,
    shown_for_ms,
)
from studio.errors import Conflict, InvalidInput
from studio.models import Session
from studio.states import SessionState

NOW = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
NOW_MS = 1_779_260_400_000


def _refusal(call: object) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as refused:
        call()  # type: ignore[operator]
    return refused.value.field, refused.value.problem


def test_a_line_is_kept_without_its_surrounding_spaces() -> None:
    """Spaces around a line go; what is inside stays as typed."""
    assert clean_line("  Välkomna  till  mässan ", 200) == "Välkomna  till  mässan"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "a caption line needs some text"),
        ("   ", "a caption line needs some text"),
        ("one\ntwo", "a caption line may not hold control characters (line breaks, tabs)"),
        ("tab\there", "a caption line may not hold control characters (line breaks, tabs)"),
        ("bell\x07", "a caption line may not hold control characters (line breaks, tabs)"),
        ("x" * 21, "a caption line may be at most 20 characters (this one has 21)"),
    ],
)
def test_bad_lines_are_refused_with_the_reason(text: str, problem: str) -> None:
    """Empty lines, control characters and lines over the limit are refused, naming the field."""
    assert _refusal(lambda: clean_line(text, 20)) == ("text", problem)


def test_a_line_of_exactly_the_limit_passes() -> None:
    """The limit counts characters, not bytes: 20 of 'ä' pass a limit of 20."""
    assert clean_line("ä" * 20, 20) == "ä" * 20


def test_only_the_events_caption_languages_are_taken() -> None:
    """A language the event does not caption in is refused, naming those it does."""
    assert check_language("en", ("sv", "en")) == "en"
    assert _refusal(lambda: check_language("de", ("sv", "en"))) == (
        "language",
        "'de' is not a caption language of this event (it captions in sv, en)",
    )


def test_a_language_refused_names_the_field_it_came_in() -> None:
    """A clip's ``captions`` field is refused as ``captions``, with the same message."""
    assert _refusal(lambda: check_language("xx", ("sv",), "captions")) == (
        "captions",
        "'xx' is not a caption language of this event (it captions in sv)",
    )


def _session(state: SessionState) -> Session:
    return Session(
        id="ses_1", studio_id="std_1", title="T", description="", speakers=(), language="sv",
        starts_at=NOW, ends_at=NOW + timedelta(hours=1), state=state, auto_start=True,
        auto_end=True, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def test_the_recording_begins_when_the_session_went_live() -> None:
    """The recording's zero is when the session went live; one that never did: its start."""
    went_live = msgspec.structs.replace(
        _session(SessionState.REPLAY), went_live_at=NOW + timedelta(minutes=3)
    )
    assert recording_zero_ms(went_live) == NOW_MS + 180_000
    assert recording_zero_ms(_session(SessionState.SCHEDULED)) == NOW_MS


@pytest.mark.parametrize("state", [s for s in SessionState if s is not SessionState.LIVE])
def test_only_a_live_session_takes_captions(state: SessionState) -> None:
    """Every state but live is refused with the state named."""
    check_live(_session(SessionState.LIVE))
    with pytest.raises(Conflict) as refused:
        check_live(_session(state))
    assert refused.value.message == (
        f"the session is {state.value}; captions are taken only while it is live"
    )


def test_a_line_without_times_starts_now_and_stays_long_enough_to_read() -> None:
    """No start: now; no end: 1.5 s at least, 7 s at most, 15 characters a second between."""
    assert cue_times(NOW, "Hej", None, None) == (NOW_MS, NOW_MS + 1500)
    assert shown_for_ms("x" * 60) == 4000
    assert shown_for_ms("x" * 200) == 7000


def test_given_times_are_kept() -> None:
    """A caption service's own start and end are the cue's."""
    start, end = NOW - timedelta(seconds=3), NOW - timedelta(seconds=1)
    assert cue_times(NOW, "Hej", start, end) == (NOW_MS - 3000, NOW_MS - 1000)


@pytest.mark.parametrize(
    ("start", "end", "refusal"),
    [
        (0, 0, ("end", "a caption must end after it starts")),
        (0, -1, ("end", "a caption must end after it starts")),
        (0, 31, ("end", "a caption may last at most 30 seconds")),
        (6, None, ("start", "a caption may not start more than 5 seconds from now")),
    ],
)
def test_times_that_make_no_cue_are_refused(
    start: float, end: float | None, refusal: tuple[str, str]
) -> None:
    """An end not after the start, a cue over 30 s or one starting well ahead is refused."""
    start_at = NOW + timedelta(seconds=start)
    end_at = None if end is None else NOW + timedelta(seconds=end)
    assert _refusal(lambda: cue_times(NOW, "Hej", start_at, end_at)) == refusal


def test_a_correction_fixes_the_text_and_moves_the_times() -> None:
    """New text is checked like a new line; a shift moves start and end alike."""
    cue = Cue(
        id="cap_1", session_id="ses_1", language="sv", text="Välkomen", start_ms=1000,
        end_ms=2500, author="Eva", created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    later = NOW + timedelta(hours=2)
    fixed = corrected(cue, CaptionPatch(text=" Välkommen ", shift_ms=-400), 200, later)
    assert (fixed.text, fixed.start_ms, fixed.end_ms, fixed.updated_at) == (
        "Välkommen", 600, 2100, later,
    )  # fmt: skip
    assert _refusal(lambda: corrected(cue, CaptionPatch(text=""), 200, later)) == (
        "text",
        "a caption line needs some text",
    )
