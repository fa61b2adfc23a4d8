"""What a slate says and how big: the headline and the session title wrapped on words to fit
the picture, the font shrunk when they do not, cut with an ellipsis only as a last resort.

ffmpeg's drawtext draws the text file verbatim and centred, and cannot wrap or measure before
drawing, so the layout is decided here from an upper bound of each character's width in ems
(DejaVu Sans, the slate's font, fits within it; a wider fallback font is covered by the
margin). The text stays inside ``MARGIN`` of the picture on every side. Pure.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from streaming.vocab import SlateKind

SLATE_HEADLINES: dict[SlateKind, str] = {
    SlateKind.STARTING_SOON: "Starting soon",
    SlateKind.BE_RIGHT_BACK: "We'll be right back",
    SlateKind.ENDED: "The broadcast has ended",
}
MAX_TITLE = 120  # characters of the title shown at most
TITLE_LINES = 3  # lines the title may take
MARGIN = 0.06  # of the width (each side) and of the height (top and bottom) kept free
LINE_HEIGHT = 1.2  # a drawn line's height in ems (DejaVu Sans: ascent 0.93 + descent 0.24)
SPACING = 0.5  # drawtext line_spacing, in ems (half the font size)
ELLIPSIS = "…"

_NARROW = frozenset(" iIjlft.,:;'!|()[]{}-\"`/\\")
_WIDE = frozenset("mwMW@%…—")


@dataclass(frozen=True)
class SlateLayout:
    """The text file's content, the font size and the line spacing, in pixels."""

    text: str
    fontsize: int
    line_spacing: int


def one_line(text: str) -> str:
    """``text`` with control characters and line breaks as single spaces, trimmed."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def char_ems(ch: str) -> float:
    """An upper bound of ``ch``'s width in ems."""
    if ch in _NARROW:
        return 0.45
    if ch in _WIDE or unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.1
    base = unicodedata.normalize("NFKD", ch)[:1] or ch
    if base.isascii():
        if base in _NARROW:
            return 0.45
        return 0.82 if base.isupper() else 0.68
    return 1.1  # another script: assume the widest


def text_ems(text: str) -> float:
    """An upper bound of ``text``'s width in ems."""
    return sum(char_ems(ch) for ch in text)


def wrap(text: str, ems: float) -> list[str]:
    """``text`` broken on spaces into lines at most ``ems`` wide; a word wider than a line is
    broken between characters."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if text_ems(candidate) <= ems:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in word:
            if line and text_ems(line + ch) > ems:
                lines.append(line)
                line = ""
            line += ch
    if line:
        lines.append(line)
    return lines


def _cut(lines: list[str], ems: float) -> list[str]:
    """The first ``TITLE_LINES`` lines, the last ending in an ellipsis that still fits."""
    kept = lines[:TITLE_LINES]
    last = kept[-1]
    while last and text_ems(last + ELLIPSIS) > ems:
        last = last[:-1]
    kept[-1] = last.rstrip() + ELLIPSIS
    return kept


def _fits(lines: list[str], fontsize: int, width: int, height: int) -> bool:
    usable_w, usable_h = width * (1 - 2 * MARGIN), height * (1 - 2 * MARGIN)
    block = len(lines) * LINE_HEIGHT * fontsize + (len(lines) - 1) * SPACING * fontsize
    return block <= usable_h and all(text_ems(line) * fontsize <= usable_w for line in lines)


def slate_layout(
    kind: SlateKind,
    title: str,
    *,
    width: int,
    height: int,
    headline: str | None = None,
    event: str = "",
) -> SlateLayout:
    """The slate's text and font size for a ``width`` x ``height`` picture.

    The headline and title are cleaned to one line each (``one_line``), the title cut to
    ``MAX_TITLE`` characters (at a word when one ends in its second half); both are wrapped to
    the usable width at the largest font size (from a sixteenth of the height down to a
    fortieth) where the title takes at most ``TITLE_LINES`` lines and the block fits; at the
    smallest size the title is cut after ``TITLE_LINES`` lines. The ``event``'s name (its
    branding), when given, closes the slate after an empty line.
    """
    first = one_line(headline if headline is not None else SLATE_HEADLINES[kind])
    clean = one_line(title)
    if len(clean) > MAX_TITLE:
        cut = clean[: MAX_TITLE - 1]
        at_word = cut.rpartition(" ")[0]
        clean = (at_word if len(at_word) > MAX_TITLE // 2 else cut).rstrip() + ELLIPSIS
    name = one_line(event)[:MAX_TITLE]
    largest, smallest = max(12, height // 16), max(8, height // 40)
    usable = width * (1 - 2 * MARGIN)
    lines: list[str] = []
    for fontsize in range(largest, smallest - 1, -1):
        ems = usable / fontsize
        title_lines = wrap(clean, ems) if clean else []
        if fontsize == smallest and len(title_lines) > TITLE_LINES:
            title_lines = _cut(title_lines, ems)
        lines = wrap(first, ems) + title_lines + (["", *wrap(name, ems)] if name else [])
        if len(title_lines) <= TITLE_LINES and _fits(lines, fontsize, width, height):
            break
    text = "".join(f"{line}\n" for line in lines)
    return SlateLayout(text, fontsize, max(1, fontsize // 2))
