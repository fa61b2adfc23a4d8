"""Poll rules: opening, voting once, tallying, closing. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from studio.errors import InvalidInput, Refused
from studio.interaction.chat import clean_message

OPTIONS_MIN = 2
OPTIONS_MAX = 10
OPTION_MAX = 100
POLL_QUESTION_MAX = 200


@dataclass(frozen=True, slots=True)
class Poll:
    """A moderator's poll; ``ballots`` maps each viewer to the options they chose."""

    id: str
    question: str
    options: tuple[str, ...]
    multiple: bool
    open: bool = True
    ballots: dict[str, frozenset[int]] = field(default_factory=dict)

    def tally(self) -> list[int]:
        """Votes per option, in option order."""
        counts = [0] * len(self.options)
        for choices in self.ballots.values():
            for index in choices:
                counts[index] += 1
        return counts

    @property
    def voters(self) -> int:
        """How many viewers voted."""
        return len(self.ballots)


def open_poll(poll_id: str, question: str, options: list[str], *, multiple: bool) -> Poll:
    """A new open poll, after checking its text and options."""
    cleaned = [clean_message(o, OPTION_MAX, "options") for o in options]
    if not OPTIONS_MIN <= len(cleaned) <= OPTIONS_MAX:
        raise InvalidInput("options", f"a poll needs {OPTIONS_MIN} to {OPTIONS_MAX} options")
    if len(set(cleaned)) != len(cleaned):
        raise InvalidInput("options", "options must differ from each other")
    return Poll(
        id=poll_id,
        question=clean_message(question, POLL_QUESTION_MAX, "question"),
        options=tuple(cleaned),
        multiple=multiple,
    )


def cast(poll: Poll, viewer_id: str, choices: list[int]) -> Poll:
    """Record ``viewer_id``'s ballot; once per viewer, valid options only."""
    if not poll.open:
        raise Refused("poll_closed", "this poll is closed")
    if viewer_id in poll.ballots:
        raise Refused("voted_already", "you have voted in this poll already")
    chosen = frozenset(choices)
    if not chosen:
        raise InvalidInput("choices", "choose at least one option")
    if not poll.multiple and len(chosen) > 1:
        raise InvalidInput("choices", "this poll takes one choice")
    if any(not 0 <= c < len(poll.options) for c in chosen):
        raise InvalidInput("choices", f"options are numbered 0 to {len(poll.options) - 1}")
    return replace(poll, ballots={**poll.ballots, viewer_id: chosen})


def close(poll: Poll) -> Poll:
    """Stop taking votes; the results stay visible."""
    if not poll.open:
        raise Refused("poll_closed", "this poll is closed already")
    return replace(poll, open=False)
