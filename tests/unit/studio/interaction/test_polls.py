"""Poll rules: options, one vote per viewer, single and multiple choice, tallies, closing."""

from __future__ import annotations

import pytest

from studio.errors import InvalidInput, Refused
from studio.interaction import polls


def test_poll_single_choice_once_each_and_tally() -> None:
    """Votes count once per viewer; results tally per option; closed polls take no votes."""
    poll = polls.open_poll("p", "Coffee?", ["Yes", "No"], multiple=False)
    poll = polls.cast(poll, "v1", [0])
    poll = polls.cast(poll, "v2", [1])
    poll = polls.cast(poll, "v3", [0])
    assert poll.tally() == [2, 1]
    with pytest.raises(Refused, match="you have voted in this poll already"):
        polls.cast(poll, "v1", [1])
    with pytest.raises(InvalidInput, match="choices: this poll takes one choice"):
        polls.cast(poll, "v4", [0, 1])
    with pytest.raises(InvalidInput, match="choices: options are numbered 0 to 1"):
        polls.cast(poll, "v4", [2])
    closed = polls.close(poll)
    with pytest.raises(Refused, match="this poll is closed"):
        polls.cast(closed, "v4", [0])
    assert closed.tally() == [2, 1]


def test_poll_multiple_choice_and_option_rules() -> None:
    """A multiple-choice poll counts each chosen option; bad option lists are refused."""
    poll = polls.cast(polls.open_poll("p", "Which?", ["a", "b", "c"], multiple=True), "v", [0, 2])
    assert poll.tally() == [1, 0, 1]
    with pytest.raises(InvalidInput, match="options: a poll needs 2 to 10 options"):
        polls.open_poll("p", "Q", ["only"], multiple=False)
    with pytest.raises(InvalidInput, match="options: options must differ from each other"):
        polls.open_poll("p", "Q", ["a", "a"], multiple=False)


def test_poll_refusals_name_the_poll_field() -> None:
    """A blank question or option names ``question`` or ``options``, not ``text``."""
    with pytest.raises(InvalidInput) as question:
        polls.open_poll("p", " ", ["a", "b"], multiple=False)
    assert (question.value.field, question.value.problem) == ("question", "must not be blank")
    with pytest.raises(InvalidInput) as option:
        polls.open_poll("p", "Fika?", ["a", "\t"], multiple=False)
    assert (option.value.field, option.value.problem) == ("options", "must not be blank")
