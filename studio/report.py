"""The after-event report of a session: viewers and interaction, from what the store kept. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from studio.interaction.facts import (
    ChatDeleted,
    ChatPosted,
    PollVoted,
    QuestionAsked,
    QuestionVoted,
    decode_fact,
)


class TimelinePoint(msgspec.Struct, kw_only=True):
    """The most viewers seen in one minute."""

    at: datetime
    viewers: int


class OriginSplit(msgspec.Struct, kw_only=True):
    """How many came from the hall (through its join code) and how many online."""

    hall: int = 0
    online: int = 0

    def count(self, hall: bool) -> None:
        """Count one, from the hall or online."""
        if hall:
            self.hall += 1
        else:
            self.online += 1


class SessionReport(msgspec.Struct, kw_only=True):
    """Peak and total (unique) viewers, viewers over time, questions and chat volume."""

    session_id: str
    title: str
    peak_viewers: int
    unique_viewers: int
    chat_messages: int
    chat_deleted: int
    questions: int
    timeline: list[TimelinePoint]
    questions_by_origin: OriginSplit = msgspec.field(default_factory=OriginSplit)
    question_votes_by_origin: OriginSplit = msgspec.field(default_factory=OriginSplit)
    poll_answers_by_origin: OriginSplit = msgspec.field(default_factory=OriginSplit)


def build_report(
    session_id: str,
    title: str,
    timeline: list[tuple[datetime, int, int]],
    facts: Iterable[tuple[str, bytes]],
) -> SessionReport:
    """Fold the stored viewer samples and room facts into the report."""
    points = [TimelinePoint(at=minute, viewers=viewers) for minute, viewers, _ in timeline]
    uniques = max((u for _, _, u in timeline), default=0)
    posted = deleted = asked = 0
    questions, votes, answers = OriginSplit(), OriginSplit(), OriginSplit()
    for _, data in facts:
        fact = decode_fact(data)
        if isinstance(fact, ChatPosted):
            posted += 1
        elif isinstance(fact, ChatDeleted):
            deleted += 1
        elif isinstance(fact, QuestionAsked):
            asked += 1
            questions.count(fact.hall)
        elif isinstance(fact, QuestionVoted):
            votes.count(fact.hall)
        elif isinstance(fact, PollVoted):
            answers.count(fact.hall)
    return SessionReport(
        session_id=session_id,
        title=title,
        peak_viewers=max((p.viewers for p in points), default=0),
        unique_viewers=uniques,
        chat_messages=posted,
        chat_deleted=deleted,
        questions=asked,
        timeline=points,
        questions_by_origin=questions,
        question_votes_by_origin=votes,
        poll_answers_by_origin=answers,
    )
