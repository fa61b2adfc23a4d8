"""Join codes of the hall: their form, how new ones are drawn and when one stops working."""

from __future__ import annotations

from datetime import timedelta

import pytest

from studio.errors import Expired, InvalidInput, NotFound
from studio.hall import JOIN_CODE_LIFETIME, JoinCode, check_code, new_code, usable
from tests.support.harness import T0


def test_a_code_is_four_to_six_digits_typed_with_or_without_spaces() -> None:
    """Spaces a person types are dropped; letters or a wrong length are refused with the rule."""
    assert check_code(" 48 21 ") == "4821"
    assert check_code("482100") == "482100"
    for bad in ("482", "4821000", "48a1", ""):
        with pytest.raises(InvalidInput) as refused:
            check_code(bad)
        assert refused.value.message == (
            "code: a join code is 4 to 6 digits, as shown on the hall screen"
        )


def test_new_codes_avoid_taken_ones_and_grow_to_six_digits_when_four_run_out() -> None:
    """A draw that hits a taken code draws again; with every four-digit code taken, six."""
    draws = iter([4821, 4821, 1234])
    assert new_code({"4821"}, lambda low, high: next(draws)) == "1234"
    every_short = {str(n) for n in range(1000, 10000)}
    code = new_code(every_short)
    assert len(code) == 6
    assert code.isdigit()


def test_a_code_works_from_its_issue_until_it_expires() -> None:
    """Unknown codes are NotFound, codes past their end Expired with what to do instead."""
    found = JoinCode("4821", "std_1", T0, T0 + JOIN_CODE_LIFETIME)
    assert usable(found, "4821", T0 + timedelta(days=1)) is found
    with pytest.raises(NotFound) as unknown:
        usable(None, "9999", T0)
    assert unknown.value.message == "join code '9999' does not exist"
    with pytest.raises(Expired) as expired:
        usable(found, "4821", T0 + JOIN_CODE_LIFETIME)
    assert expired.value.message == (
        "join code 4821 has expired: scan the QR code on the hall screen for the current one"
    )
