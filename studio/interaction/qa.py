"""Live Q&A rules: asking, voting once, moderation steps, ordering and visibility. Pure.

pending ──approve──▶ approved ──answering──▶ answering ──answered──▶ answered
   │  ▲                 │  ▲                     (one at a time: marking a new one
   │  └───approve───────┤  │                      answered closes the previous)
   └──reject──▶ rejected◀──┘
any open question ──merge into another──▶ merged (its votes move to the target)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace

from studio.errors import InvalidInput, InvalidTransition, NotFound, Refused
from studio.interaction.chat import clean_message

QUESTION_MAX = 300


class QuestionStatus(enum.StrEnum):
    """Where a question is in moderation."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ANSWERING = "answering"
    ANSWERED = "answered"
    MERGED = "merged"


class QuestionAction(enum.StrEnum):
    """What a moderator can do to a question."""

    APPROVE = "approve"
    REJECT = "reject"
    ANSWERING = "answering"
    ANSWERED = "answered"


_Q, _A = QuestionStatus, QuestionAction
_STEPS: dict[tuple[QuestionStatus, QuestionAction], QuestionStatus] = {
    (_Q.PENDING, _A.APPROVE): _Q.APPROVED,
    (_Q.REJECTED, _A.APPROVE): _Q.APPROVED,
    (_Q.PENDING, _A.REJECT): _Q.REJECTED,
    (_Q.APPROVED, _A.REJECT): _Q.REJECTED,
    (_Q.APPROVED, _A.ANSWERING): _Q.ANSWERING,
    (_Q.PENDING, _A.ANSWERING): _Q.ANSWERING,
    (_Q.ANSWERED, _A.ANSWERING): _Q.ANSWERING,
    (_Q.APPROVED, _A.ANSWERED): _Q.ANSWERED,
    (_Q.ANSWERING, _A.ANSWERED): _Q.ANSWERED,
    (_Q.ANSWERING, _A.APPROVE): _Q.APPROVED,
}
PUBLIC = frozenset({_Q.APPROVED, _Q.ANSWERING, _Q.ANSWERED})
VOTABLE = frozenset({_Q.APPROVED, _Q.ANSWERING})


@dataclass(frozen=True, slots=True)
class Question:
    """A viewer's question; ``author_name`` None means asked anonymously."""

    id: str
    text: str
    author_id: str
    author_name: str | None
    status: QuestionStatus
    votes: frozenset[str]
    asked_at: float
    merged_into: str | None = None
    hall: bool = False  # asked from the hall through its join code (else online)

    @property
    def vote_count(self) -> int:
        """How many viewers voted for it."""
        return len(self.votes)


def ask(
    question_id: str,
    author_id: str,
    author_name: str | None,
    text: str,
    now: float,
    *,
    auto_approve: bool,
    hall: bool = False,
) -> Question:
    """A new question, pending unless the session approves questions automatically."""
    status = QuestionStatus.APPROVED if auto_approve else QuestionStatus.PENDING
    return Question(
        id=question_id,
        text=clean_message(text, QUESTION_MAX),
        author_id=author_id,
        author_name=author_name,
        status=status,
        votes=frozenset(),
        asked_at=now,
        hall=hall,
    )


def vote(question: Question, viewer_id: str) -> Question:
    """Add ``viewer_id``'s vote; each viewer votes once, only for approved questions."""
    if question.status not in VOTABLE:
        raise Refused("not_votable", "only approved questions can be voted for")
    if viewer_id in question.votes:
        raise Refused("voted_already", "you have voted for this question already")
    return replace(question, votes=question.votes | {viewer_id})


def moderate(
    questions: dict[str, Question], question_id: str, action: QuestionAction
) -> list[Question]:
    """Apply a moderator's step; return every question that changed (the target first)."""
    question = _find(questions, question_id)
    after = _STEPS.get((question.status, action))
    if after is None:
        raise InvalidTransition(f"a question that is {question.status} cannot be marked {action}")
    changed = [replace(question, status=after)]
    if after is QuestionStatus.ANSWERING:
        changed += [
            replace(q, status=QuestionStatus.ANSWERED)
            for q in questions.values()
            if q.status is QuestionStatus.ANSWERING and q.id != question_id
        ]
    return changed


def edit(questions: dict[str, Question], question_id: str, text: str) -> Question:
    """A moderator's correction of a question's text."""
    question = _find(questions, question_id)
    if question.status is QuestionStatus.MERGED:
        raise InvalidTransition("a merged question cannot be edited")
    return replace(question, text=clean_message(text, QUESTION_MAX))


def merge(questions: dict[str, Question], source_id: str, target_id: str) -> list[Question]:
    """Fold a duplicate into another question: votes join the target, the source is merged."""
    if source_id == target_id:
        raise InvalidInput("into", "a question cannot be merged into itself")
    source, target = _find(questions, source_id), _find(questions, target_id)
    if source.status is QuestionStatus.MERGED or target.status is QuestionStatus.MERGED:
        raise InvalidTransition("a merged question cannot be merged again")
    merged_target = replace(target, votes=target.votes | source.votes | {source.author_id})
    return [
        replace(source, status=QuestionStatus.MERGED, merged_into=target_id),
        merged_target,
    ]


def visible_to(question: Question, viewer_id: str, *, moderator: bool) -> bool:
    """Moderators see everything; others see public questions and their own."""
    return moderator or question.status in PUBLIC or question.author_id == viewer_id


def ordered(questions: Iterable[Question]) -> list[Question]:
    """The question being answered first, then approved by votes (most first), then oldest."""
    rank = {QuestionStatus.ANSWERING: 0, QuestionStatus.APPROVED: 1}
    return sorted(
        questions,
        key=lambda q: (rank.get(q.status, 2), -q.vote_count, q.asked_at, q.id),
    )


def _find(questions: dict[str, Question], question_id: str) -> Question:
    try:
        return questions[question_id]
    except KeyError:
        raise NotFound("question", question_id) from None
