"""Chat, Q&A, poll and rate-limit rules, tested without sockets."""

from __future__ import annotations

import pytest

from studio.errors import InvalidInput, InvalidTransition, Refused
from studio.interaction import chat, polls, qa
from studio.interaction.qa import QuestionAction, QuestionStatus
from studio.interaction.ratelimit import Rate, RateLimiter


def refused(exc: pytest.ExceptionInfo[Refused]) -> tuple[str, str]:
    """The refusal's code and message."""
    return exc.value.code, exc.value.message


def test_chat_post_is_cleaned_and_limited() -> None:
    """Text is trimmed; blank, long and control-character text is refused by field."""
    rules = chat.ChatModeration()
    assert chat.check_post(rules, "v1", "  hej  ", 0.0, None) == "hej"
    with pytest.raises(InvalidInput, match="text: must not be blank"):
        chat.check_post(rules, "v1", "   ", 0.0, None)
    with pytest.raises(InvalidInput, match="text: must be at most 500 characters"):
        chat.check_post(rules, "v1", "x" * 501, 0.0, None)
    with pytest.raises(InvalidInput, match="control characters"):
        chat.check_post(rules, "v1", "a\x07b", 0.0, None)


def test_slow_mode_counts_per_viewer() -> None:
    """With slow mode, one viewer waits; another viewer is not held up."""
    rules = chat.ChatModeration().with_slow_mode(10)
    with pytest.raises(Refused) as caught:
        chat.check_post(rules, "v1", "again", 104.0, last_post_at=100.0)
    assert refused(caught) == ("slow_mode", "slow mode is on: wait 7 seconds before posting again")
    assert chat.check_post(rules, "v1", "later", 110.0, last_post_at=100.0) == "later"
    assert chat.check_post(rules, "v2", "first", 104.0, last_post_at=None) == "first"


def test_mute_expires_and_ban_holds() -> None:
    """A mute ends at its time; a ban lasts until lifted."""
    rules = chat.ChatModeration().with_mute("v1", until=60.0).with_ban("v2")
    with pytest.raises(Refused) as caught:
        chat.check_post(rules, "v1", "hi", 30.0, None)
    assert refused(caught) == ("muted", "you are muted for 31 more seconds")
    assert chat.check_post(rules, "v1", "hi", 60.0, None) == "hi"
    with pytest.raises(Refused, match="you cannot post in this chat"):
        chat.check_post(rules, "v2", "hi", 0.0, None)
    assert chat.check_post(rules.without_ban("v2"), "v2", "hi", 0.0, None) == "hi"


def test_word_filter_matches_whole_words_any_case() -> None:
    """A blocked word refuses the message; a word merely containing it does not."""
    rules = chat.ChatModeration().with_filter(["Spam", " "])
    assert rules.blocked_words == ("spam",)
    with pytest.raises(Refused) as caught:
        chat.check_post(rules, "v1", "buy SPAM now", 0.0, None)
    assert caught.value.code == "blocked_word"
    assert chat.check_post(rules, "v1", "spammy word", 0.0, None) == "spammy word"


def test_slow_mode_range() -> None:
    """Slow mode takes 0 to 600 seconds."""
    with pytest.raises(InvalidInput, match="seconds: must be between 0 and 600"):
        chat.ChatModeration().with_slow_mode(601)


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


def test_rate_limiter_bursts_then_refills() -> None:
    """A key gets its burst at once, then one per refill interval; keys are independent."""
    limiter = RateLimiter(Rate(per_second=2, burst=3))
    assert [limiter.allow("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", 0.0)
    assert not limiter.allow("a", 0.2)
    assert limiter.allow("a", 0.5)


def test_rate_limiter_forgets_old_keys() -> None:
    """Beyond max_keys the least recently used key is forgotten (memory stays bounded)."""
    limiter = RateLimiter(Rate(per_second=1, burst=1), max_keys=2)
    limiter.allow("a", 0.0)
    limiter.allow("b", 0.0)
    limiter.allow("c", 0.0)
    assert limiter.allow("a", 0.0)  # a was forgotten, so it has a fresh bucket


def test_display_names_are_one_clean_line() -> None:
    """A name is trimmed; blank, multi-line or control-character names are refused."""
    assert chat.clean_name("  Eva  ") == "Eva"
    for name, problem in [("  ", "name: must not be blank"),
                          ("Eva\x00", "name: must not contain control characters"),
                          ("Eva\nEk", "name: must not contain control characters"),
                          ("x" * 41, "name: must be at most 40 characters")]:  # fmt: skip
        with pytest.raises(InvalidInput) as caught:
            chat.clean_name(name)
        assert str(caught.value) == problem


def test_staff_are_not_slowed_down() -> None:
    """Slow mode applies to viewers, not to the room's moderators."""
    rules = chat.ChatModeration().with_slow_mode(60)
    assert chat.check_post(rules, "mod", "again", 10.0, 5.0, staff=True) == "again"
    with pytest.raises(Refused):
        chat.check_post(rules, "v", "again", 10.0, 5.0)


def test_muted_and_banned_viewers_may_not_take_part() -> None:
    """Asking and voting: a ban always refuses, a mute until it ends (and not when the time
    of an old vote is unknown)."""
    rules = chat.ChatModeration().with_ban("b").with_mute("m", until=100.0)
    with pytest.raises(Refused) as banned:
        chat.check_may_take_part(rules, "b", None)
    assert refused(banned) == ("banned", "you cannot take part in this room")
    with pytest.raises(Refused) as muted:
        chat.check_may_take_part(rules, "m", 40.0)
    assert refused(muted) == ("muted", "you are muted for 61 more seconds")
    chat.check_may_take_part(rules, "m", 100.0)
    chat.check_may_take_part(rules, "m", None)


def test_poll_refusals_name_the_poll_field() -> None:
    """A blank question or option names ``question`` or ``options``, not ``text``."""
    with pytest.raises(InvalidInput) as question:
        polls.open_poll("p", " ", ["a", "b"], multiple=False)
    assert (question.value.field, question.value.problem) == ("question", "must not be blank")
    with pytest.raises(InvalidInput) as option:
        polls.open_poll("p", "Fika?", ["a", "\t"], multiple=False)
    assert (option.value.field, option.value.problem) == ("options", "must not be blank")
