"""The slate's text: hostile titles verbatim, cleaned, wrapped to fit and shrunk, as exact text."""

from __future__ import annotations

import pytest

from streaming.slate_layout import (
    MARGIN,
    SlateLayout,
    slate_layout,
    text_ems,
    wrap,
)
from streaming.vocab import SlateKind
from tests.unit.streaming.test_ffmpeg_args import HOSTILE_TITLES

LONG = (
    "Opening: innovative municipalities that changed how they work with open data, "
    "citizens and the wider Nordic region, together"
)


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_reach_the_text_file_verbatim_on_one_line(title: str) -> None:
    """The title reaches drawtext only through the text file, flattened to one line."""
    layout = slate_layout(SlateKind.STARTING_SOON, title, width=1280, height=720)
    assert layout == SlateLayout(f"Starting soon\n{' '.join(title.split())}\n", 45, 22)


def test_titles_are_cleaned_and_headlines_translate() -> None:
    """Control characters become spaces; no title, no title line; a headline may be given."""

    def text(kind: SlateKind, title: str, headline: str | None = None) -> str:
        return slate_layout(kind, title, width=1280, height=720, headline=headline).text

    assert text(SlateKind.BE_RIGHT_BACK, "a\tb\x00c") == "We'll be right back\na b c\n"
    assert text(SlateKind.ENDED, "") == "The broadcast has ended\n"
    assert text(SlateKind.STARTING_SOON, "x", "Snart börjar vi") == "Snart börjar vi\nx\n"


def test_a_long_title_wraps_on_words_and_the_font_shrinks_to_fit() -> None:
    """A 125-character title is cut at a word to 120 and wrapped into three lines, every line
    within the usable width; wide letters that need more lines get a smaller font."""
    layout = slate_layout(SlateKind.BE_RIGHT_BACK, LONG, width=1280, height=720)
    assert layout == SlateLayout(
        "We'll be right back\n"
        "Opening: innovative municipalities that\n"
        "changed how they work with open data,\n"
        "citizens and the wider Nordic region,…\n",
        45,
        22,
    )
    usable = 1280 * (1 - 2 * MARGIN) / layout.fontsize
    assert all(text_ems(line) <= usable for line in layout.text.splitlines())
    wide = slate_layout(SlateKind.BE_RIGHT_BACK, "WM" * 60, width=1280, height=720)
    assert wide.fontsize == 25
    assert [len(line) for line in wide.text.splitlines()] == [19, 40, 40, 40]


def test_what_cannot_fit_is_cut_after_three_lines_at_the_smallest_size() -> None:
    """A title too wide even at a fortieth of the height keeps three lines, the last cut."""
    layout = slate_layout(SlateKind.BE_RIGHT_BACK, "W" * 120, width=256, height=144)
    lines = layout.text.splitlines()
    assert layout.fontsize == 8
    assert len(lines) == 4
    assert lines[-1].endswith("…")
    assert all(text_ems(line) * 8 <= 256 * (1 - 2 * MARGIN) for line in lines)


def test_wrap_breaks_words_longer_than_a_line() -> None:
    """A word wider than the line is broken between characters; spaces break the rest."""
    assert wrap("ab cd", 10) == ["ab cd"]
    assert wrap("abcdefgh ij", 3) == ["abcd", "efgh", "ij"]


def test_the_events_name_closes_the_slate_after_an_empty_line() -> None:
    """A branded slate ends with the event's name, cleaned to one line like the title."""
    layout = slate_layout(
        SlateKind.STARTING_SOON, "Opening", width=1280, height=720, event="Kommun\nmässan"
    )
    assert layout.text == "Starting soon\nOpening\n\nKommun mässan\n"
