"""The after-event report folds the room's facts: questions, votes and poll answers split by
hall (through the join code) and online."""

from __future__ import annotations

from studio.interaction import facts as f
from studio.report import OriginSplit, build_report
from tests.support.harness import T0


def test_questions_votes_and_poll_answers_are_split_by_hall_and_online() -> None:
    """Each fact counts where it came from; facts from before origins count as online."""
    logged: list[f.Fact] = [
        f.QuestionAsked(question_id="q1", author_id="v1", author_name=None, text="Hall?", ts=1,
                        auto_approve=True, hall=True),
        f.QuestionAsked(question_id="q2", author_id="v2", author_name="Eva", text="Web?", ts=2,
                        auto_approve=True),
        f.QuestionVoted(question_id="q2", viewer_id="v1", ts=3, hall=True),
        f.QuestionVoted(question_id="q1", viewer_id="v3", ts=4, hall=True),
        f.QuestionVoted(question_id="q1", viewer_id="v2", ts=5),
        f.PollVoted(poll_id="p1", viewer_id="v1", choices=[0], ts=6, hall=True),
        f.ChatPosted(viewer_id="v2", name="Eva", text="Hej", ts=7),
    ]  # fmt: skip
    old_vote = b'{"k":"poll.voted","poll_id":"p1","viewer_id":"v9","choices":[1]}'
    facts = [("id", f.encode_fact(fact)) for fact in logged] + [("id", old_vote)]
    report = build_report("ses_1", "Opening", [(T0, 3, 3)], facts)
    assert report.questions == 2
    assert report.questions_by_origin == OriginSplit(hall=1, online=1)
    assert report.question_votes_by_origin == OriginSplit(hall=2, online=1)
    assert report.poll_answers_by_origin == OriginSplit(hall=1, online=1)
    assert report.chat_messages == 1
