"""Q&A rules: asking, approval, votes, the order shown, moderation steps, merges, who sees what."""

from __future__ import annotations

import pytest

from studio.errors import InvalidInput, InvalidTransition, Refused
from studio.interaction import qa
from studio.interaction.qa import QuestionAction, QuestionStatus
from tests.support.refusals import refused


def _board(*questions: qa.Question) -> dict[str, qa.Question]:
    return {q.id: q for q in questions}


def test_questions_wait_for_approval_unless_auto() -> None:
    """A question is pending, or approved at once when the session says so."""
    assert (
        qa.ask("q1", "v1", "Eva", " Why? ", 1.0, auto_approve=False).status
        is QuestionStatus.PENDING
    )
    auto = qa.ask("q1", "v1", None, "Why?", 1.0, auto_approve=True)
    assert (auto.status, auto.text, auto.author_name) == (QuestionStatus.APPROVED, "Why?", None)


def test_vote_once_and_only_for_approved() -> None:
    """Each viewer votes once; pending questions take no votes."""
    pending = qa.ask("q1", "v1", None, "Why?", 1.0, auto_approve=False)
    with pytest.raises(Refused, match="only approved questions can be voted for"):
        qa.vote(pending, "v2")
    approved = qa.ask("q1", "v1", None, "Why?", 1.0, auto_approve=True)
    voted = qa.vote(approved, "v2")
    assert voted.vote_count == 1
    with pytest.raises(Refused) as caught:
        qa.vote(voted, "v2")
    assert refused(caught) == ("voted_already", "you have voted for this question already")


def test_ordering_answering_first_then_votes_then_age() -> None:
    """The highlighted question leads; then most votes; ties go to the older question."""
    a = qa.ask("a", "v", None, "A", 1.0, auto_approve=True)
    b = qa.vote(qa.ask("b", "v", None, "B", 2.0, auto_approve=True), "x")
    c = qa.ask("c", "v", None, "C", 0.5, auto_approve=True)
    d = qa.moderate(_board(qa.ask("d", "v", None, "D", 3.0, auto_approve=True)), "d",
                    QuestionAction.ANSWERING)[0]  # fmt: skip
    assert [q.id for q in qa.ordered([a, b, c, d])] == ["d", "b", "c", "a"]


def test_only_one_question_is_being_answered() -> None:
    """Marking a new question 'being answered' closes the previous one as answered."""
    first = qa.ask("a", "v", None, "A", 1.0, auto_approve=True)
    second = qa.ask("b", "v", None, "B", 2.0, auto_approve=True)
    board = _board(first, second)
    board.update({q.id: q for q in qa.moderate(board, "a", QuestionAction.ANSWERING)})
    changed = qa.moderate(board, "b", QuestionAction.ANSWERING)
    assert [(q.id, q.status) for q in changed] == [
        ("b", QuestionStatus.ANSWERING),
        ("a", QuestionStatus.ANSWERED),
    ]


def test_invalid_moderation_step_is_refused() -> None:
    """A rejected question cannot be marked answered."""
    board = _board(qa.ask("a", "v", None, "A", 1.0, auto_approve=False))
    board.update({q.id: q for q in qa.moderate(board, "a", QuestionAction.REJECT)})
    with pytest.raises(
        InvalidTransition, match="a question that is rejected cannot be marked answered"
    ):
        qa.moderate(board, "a", QuestionAction.ANSWERED)


def test_merge_moves_votes_and_hides_the_duplicate() -> None:
    """Merging adds the duplicate's votes (and its author) to the target."""
    target = qa.vote(qa.ask("t", "v1", None, "T", 1.0, auto_approve=True), "x")
    dup = qa.vote(qa.ask("d", "v2", None, "T again", 2.0, auto_approve=True), "y")
    source, merged = qa.merge(_board(target, dup), "d", "t")
    assert (source.status, source.merged_into) == (QuestionStatus.MERGED, "t")
    assert merged.votes == {"x", "y", "v2"}
    with pytest.raises(InvalidInput, match="into: a question cannot be merged into itself"):
        qa.merge(_board(target), "t", "t")


def test_unapproved_questions_reach_only_moderators_and_author() -> None:
    """Pending questions are visible to moderators and to whoever asked."""
    pending = qa.ask("a", "author", None, "A", 1.0, auto_approve=False)
    assert qa.visible_to(pending, "author", moderator=False)
    assert qa.visible_to(pending, "someone", moderator=True)
    assert not qa.visible_to(pending, "someone", moderator=False)
