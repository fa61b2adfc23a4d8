"""The branding rules: WCAG contrast, colours, and the refusal of a pair below 4.5:1."""

from __future__ import annotations

import pytest

from studio.branding import Branding, check_branding, contrast_ratio, relative_luminance
from studio.errors import InvalidInput


def test_contrast_follows_wcag() -> None:
    """Black on white is 21:1, a colour on itself 1:1, and the order does not matter."""
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#ffffff", "#767676") == contrast_ratio("#767676", "#ffffff")
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert relative_luminance("#000000") == 0.0


def test_a_readable_branding_is_kept_cleaned() -> None:
    """Colours in lower case, the name's spaces collapsed."""
    branding = Branding(
        name="  Kommunmässan  2026 ", background="#FFFFFF", text="#1B1B1B", accent="#0B57A4"
    )
    assert check_branding(branding) == Branding(
        name="Kommunmässan 2026", background="#ffffff", text="#1b1b1b", accent="#0b57a4"
    )


def test_no_colours_means_the_built_in_look() -> None:
    """A name alone is a branding without colours."""
    assert check_branding(Branding(name="Expo")) == Branding(name="Expo")
    assert not check_branding(Branding(name="Expo")).coloured


@pytest.mark.parametrize(
    ("branding", "field", "message"),
    [
        (
            Branding(name="Expo", background="#ffffff", text="#aaaaaa", accent="#0b57a4"),
            "text",
            "text: text #aaaaaa on background #ffffff has a contrast of 2.32:1; "
            "WCAG AA asks for at least 4.5:1 for text",
        ),
        (
            Branding(name="Expo", background="#ffffff", text="#1b1b1b", accent="#ffd700"),
            "accent",
            "accent: accent #ffd700 on background #ffffff has a contrast of 1.40:1; "
            "WCAG AA asks for at least 4.5:1 for text",
        ),
        (
            Branding(name="Expo", background="#ffffff", text="#777777", accent="#0b57a4"),
            "text",
            "text: text #777777 on background #ffffff has a contrast of 4.47:1; "
            "WCAG AA asks for at least 4.5:1 for text",
        ),
        (
            Branding(name="Expo", background="white", text="#000000", accent="#000000"),
            "background",
            "background: 'white' is not a colour like #1b1b1b",
        ),
        (
            Branding(name="Expo", background="#ffffff"),
            "text",
            "text: set the background, text and accent colours together",
        ),
        (Branding(name="   "), "name", "name: must not be blank"),
        (Branding(name="x" * 81), "name", "name: must be at most 80 characters"),
    ],
)
def test_an_unreadable_or_malformed_branding_is_refused_naming_the_pair(
    branding: Branding, field: str, message: str
) -> None:
    """A pair below 4.5:1 is refused with both colours and its ratio; other mistakes too."""
    with pytest.raises(InvalidInput) as refused:
        check_branding(branding)
    assert (refused.value.field, refused.value.message) == (field, message)
