"""The event's branding: its name and colours, and the WCAG contrast rule they must meet. Pure.

Colours are ``#rrggbb``. Every colour pair a page draws text with (the text and the accent on
the background) must reach the WCAG 2 AA contrast for text, 4.5:1 (``check_branding``).
"""

from __future__ import annotations

import math
import re

import msgspec

from studio.errors import InvalidInput

#: WCAG 2 AA: the least contrast for normal text.
MIN_CONTRAST = 4.5
MAX_NAME = 80
_HEX = re.compile(r"#[0-9a-fA-F]{6}")

#: The pairs drawn as text on a background: (foreground field, background field).
TEXT_PAIRS = (("text", "background"), ("accent", "background"))


class Branding(msgspec.Struct, frozen=True, kw_only=True):
    """The event's name and colours (``#rrggbb``; empty: the built-in look)."""

    name: str
    background: str = ""
    text: str = ""
    accent: str = ""

    @property
    def coloured(self) -> bool:
        """Whether the colours are set (all three, or none)."""
        return bool(self.background)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours, 1 to 21 (either order)."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def check_colour(field: str, value: str) -> str:
    """``value`` in lower case if it is ``#rrggbb``; InvalidInput otherwise."""
    if not _HEX.fullmatch(value):
        raise InvalidInput(field, f"{value!r} is not a colour like #1b1b1b")
    return value.lower()


def check_branding(branding: Branding) -> Branding:
    """The branding cleaned, or InvalidInput naming the problem: a blank or long name, a colour
    that is not ``#rrggbb``, some colours without the others, or a pair below 4.5:1."""
    name = " ".join(branding.name.split())
    if not name:
        raise InvalidInput("name", "must not be blank")
    if len(name) > MAX_NAME:
        raise InvalidInput("name", f"must be at most {MAX_NAME} characters")
    colours = {"background": branding.background, "text": branding.text, "accent": branding.accent}
    if not any(colours.values()):
        return Branding(name=name)
    missing = [field for field, value in colours.items() if not value]
    if missing:
        raise InvalidInput(missing[0], "set the background, text and accent colours together")
    clean = {field: check_colour(field, value) for field, value in colours.items()}
    for front, back in TEXT_PAIRS:
        ratio = contrast_ratio(clean[front], clean[back])
        if ratio < MIN_CONTRAST:
            shown = math.floor(ratio * 100) / 100
            raise InvalidInput(
                front,
                f"{front} {clean[front]} on {back} {clean[back]} has a contrast of "
                f"{shown:.2f}:1; WCAG AA asks for at least {MIN_CONTRAST:g}:1 for text",
            )
    return Branding(name=name, **clean)
