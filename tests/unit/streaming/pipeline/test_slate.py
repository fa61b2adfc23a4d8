"""The slate's look: the event's branding in ffmpeg's colour notation."""

from __future__ import annotations

from streaming.pipeline.slate import SlateLook


def test_the_slate_look_follows_the_branding() -> None:
    """``#rrggbb`` colours become ffmpeg's ``0xrrggbb``; no colours give the built-in look."""
    look = SlateLook()
    look.follow("#fafafa", "#0b57a4", "Expo")
    assert (look.background, look.text, look.name) == ("0xfafafa", "0x0b57a4", "Expo")
    look.follow("", "", "Torget")
    assert (look.background, look.text, look.name) == ("0x14213d", "0xffffff", "Torget")
