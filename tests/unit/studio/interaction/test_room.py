"""Folding a room's facts: what every node derives, and what resuming clients get."""

from __future__ import annotations

import pytest

from studio.errors import Refused
from studio.interaction.facts import (
    CaptionPosted,
    ChannelSwitched,
    ChatDeleted,
    ChatPosted,
    ChatSettingsChanged,
    InterpretationChanged,
    PollOpened,
    PollVoted,
    QuestionAsked,
    QuestionModerated,
    QuestionVoted,
    ViewerModerated,
    decode_fact,
    encode_fact,
    log_id,
    parse_log_id,
)
from studio.interaction.qa import QuestionAction
from studio.interaction.room import Audience, RoomState


def post(room: RoomState, event_id: str, viewer: str, text: str, ts: int = 1000) -> None:
    """Fold a chat message."""
    room.apply(event_id, ChatPosted(viewer_id=viewer, name=viewer, text=text, ts=ts))


def test_facts_round_trip_through_the_log_encoding() -> None:
    """A fact encoded for the log decodes to an equal fact."""
    fact = QuestionModerated(question_id="q1", action=QuestionAction.APPROVE, by="mod")
    assert decode_fact(encode_fact(fact)) == fact


def test_history_and_resume_give_exactly_what_was_missed() -> None:
    """After an id, resume returns later events in order, without duplicates."""
    room = RoomState("ses_a")
    for i in range(1, 6):
        post(room, f"100-{i}", "v1", f"m{i}", ts=i * 10_000)
    missed = room.since("100-3")
    assert missed is not None
    assert [e.event["text"] for e in missed] == ["m4", "m5"]
    assert [e.event["id"] for e in missed] == ["100-4", "100-5"]
    assert room.since("100-5") == []


def test_resume_from_before_kept_history_asks_for_a_reset() -> None:
    """An id older than the kept history cannot be resumed exactly: None."""
    room = RoomState("ses_a", history_max=3)
    for i in range(1, 6):
        post(room, f"100-{i}", "v1", f"m{i}", ts=i * 10_000)
    assert room.since("100-1") is None
    assert [e.event["text"] for e in room.since("100-3") or []] == ["m4", "m5"]


def test_redelivered_fact_is_folded_once() -> None:
    """A fact seen again after a reconnect changes nothing and shows nothing."""
    room = RoomState("ses_a")
    post(room, "100-1", "v1", "hi")
    assert room.apply("100-1", ChatPosted(viewer_id="v1", name="v1", text="hi", ts=1)) == []
    assert len(room.history) == 1


def test_deleted_message_leaves_history_but_resumers_learn_of_it() -> None:
    """History loses the message; a client resuming before it gets the deletion event."""
    room = RoomState("ses_a")
    post(room, "100-1", "v1", "rude")
    post(room, "100-2", "v2", "nice", ts=2000)
    room.apply("100-3", ChatDeleted(message_id="100-1", by="mod"))
    everything = room.since(None) or []
    assert [e.event["type"] for e in everything] == ["chat.message", "chat.deleted"]
    assert everything[0].event["text"] == "nice"
    assert [e.event["type"] for e in room.since("100-2") or []] == ["chat.deleted"]


def test_slow_mode_and_mutes_are_checked_before_append() -> None:
    """evaluate refuses a post that slow mode or a mute forbids, and changes nothing."""
    room = RoomState("ses_a")
    room.apply("100-1", ChatSettingsChanged(by="mod", slow_mode_seconds=30))
    post(room, "100-2", "v1", "first", ts=1_000_000)
    with pytest.raises(Refused, match="slow mode is on: wait 21 seconds"):
        room.evaluate(
            ChatPosted(viewer_id="v1", name="v1", text="again", ts=1_010_000), now_ms=1_010_000
        )
    room.apply("100-3", ViewerModerated(viewer_id="v2", by="mod", muted_until=2_000_000))
    with pytest.raises(Refused, match="you are muted"):
        room.evaluate(ChatPosted(viewer_id="v2", name="v2", text="x", ts=1), now_ms=1_500_000)
    assert len(room.history) == 3  # the settings change is one event (two forms), not two


def test_racing_duplicate_vote_is_ignored_by_the_fold() -> None:
    """Two nodes appended the same viewer's vote: the second one counts nothing."""
    room = RoomState("ses_a")
    asked = QuestionAsked(question_id="q1", author_id="a", author_name=None, text="Why?",
                          ts=1, auto_approve=True)  # fmt: skip
    room.apply("100-1", asked)
    assert room.apply("100-2", QuestionVoted(question_id="q1", viewer_id="v")) != []
    assert room.apply("100-3", QuestionVoted(question_id="q1", viewer_id="v")) == []
    assert room.questions["q1"].vote_count == 1


def test_pending_question_goes_to_moderators_and_author_only() -> None:
    """An unapproved question's event is staff-only with its author; approval makes it public."""
    room = RoomState("ses_a")
    asked = QuestionAsked(question_id="q1", author_id="author", author_name="Eva",
                          text="Why?", ts=1, auto_approve=False)  # fmt: skip
    (emit,) = room.apply("100-1", asked)
    assert emit.audience is Audience.STAFF
    assert emit.visible_to("author", staff=False)
    assert not emit.visible_to("other", staff=False)
    assert emit.visible_to("other", staff=True)
    (approved,) = room.apply(
        "100-2", QuestionModerated(question_id="q1", action=QuestionAction.APPROVE, by="m")
    )
    assert approved.audience is Audience.PUBLIC
    assert room.snapshot("other", staff=False)["questions"][0]["status"] == "approved"


def test_rejecting_a_public_question_removes_it_for_everyone() -> None:
    """Viewers who saw an approved question are told it is gone when it is rejected."""
    room = RoomState("ses_a")
    room.apply("100-1", QuestionAsked(question_id="q1", author_id="a", author_name=None,
                                      text="Q", ts=1, auto_approve=True))  # fmt: skip
    emits = room.apply(
        "100-2", QuestionModerated(question_id="q1", action=QuestionAction.REJECT, by="m")
    )
    assert [(e.audience, e.event["type"]) for e in emits] == [
        (Audience.STAFF, "qa.question"),
        (Audience.PUBLIC, "qa.removed"),
    ]
    assert room.snapshot("x", staff=False)["questions"] == []


def test_poll_votes_fold_into_live_results() -> None:
    """Each vote emits the poll with its tally."""
    room = RoomState("ses_a")
    room.apply("100-1", PollOpened(poll_id="p", question="Coffee?", options=["Yes", "No"],
                                   multiple=False, by="m"))  # fmt: skip
    room.apply("100-2", PollVoted(poll_id="p", viewer_id="v1", choices=[0]))
    (emit,) = room.apply("100-3", PollVoted(poll_id="p", viewer_id="v2", choices=[1]))
    assert emit.event["poll"]["tally"] == [1, 1]
    assert emit.event["poll"]["voters"] == 2


def test_a_settings_change_is_one_event_with_a_moderators_form() -> None:
    """Slow mode or the filter changes show one ``chat.settings`` event: viewers see the slow
    mode, moderators also the blocked words, under the same id."""
    room = RoomState("ses_a")
    (emit,) = room.apply(log_id(100, 1), ChatSettingsChanged(by="mod", blocked_words=["Spam"]))
    assert emit.event_for(staff=False) == {"type": "chat.settings", "slow_mode_seconds": 0,
                                           "id": log_id(100, 1)}  # fmt: skip
    assert emit.event_for(staff=True)["blocked_words"] == ["spam"]
    assert emit.event_for(staff=True)["id"] == log_id(100, 1)


def test_ids_sort_as_strings_and_old_ones_still_parse() -> None:
    """Log ids are zero-padded so string order is log order; unpadded ids of earlier versions
    parse to the same place; anything else is not an id."""
    ids = [log_id(1732560000756, seq) for seq in (9, 10, 11)]
    assert ids == sorted(ids)
    assert ids[0] == "1732560000756-000009"
    assert parse_log_id("1732560000756-9") == parse_log_id(ids[0]) == (1732560000756, 9)
    assert [parse_log_id(bad) for bad in ("", "abc", "1-", "-1", "1-2-3", "1 -2")] == [None] * 6


def test_resume_from_an_id_newer_than_the_log_asks_for_a_reset() -> None:
    """An ``after`` beyond the newest entry (or any in an empty log) cannot be resumed from."""
    room = RoomState("ses_a")
    assert room.since(log_id(100, 0)) is None
    post(room, log_id(100, 1), "v1", "m1")
    assert room.since(log_id(100, 2)) is None
    assert room.since(log_id(100, 1)) == []
    assert [e.event["text"] for e in room.since("100-0") or []] == ["m1"]


def test_muted_banned_and_staff_rules_hold_in_the_fold() -> None:
    """The fold refuses a banned viewer's question and a muted viewer's vote (by the fact's
    time), and lets a moderator post twice in slow mode."""
    room = RoomState("ses_a")
    room.apply("100-1", ViewerModerated(viewer_id="b", by="mod", banned=True))
    room.apply("100-2", ViewerModerated(viewer_id="m", by="mod", muted_until=50_000))
    room.apply("100-3", PollOpened(poll_id="p1", question="Fika?", options=["Ja", "Nej"],
                                   multiple=False, by="mod"))  # fmt: skip
    asked = QuestionAsked(question_id="q1", author_id="b", author_name=None, text="Hm?",
                          ts=1_000, auto_approve=True)  # fmt: skip
    assert room.apply("100-4", asked) == []
    assert room.apply("100-5", PollVoted(poll_id="p1", viewer_id="m", choices=[0], ts=40_000)) == []
    assert room.apply("100-6", PollVoted(poll_id="p1", viewer_id="m", choices=[0], ts=60_000))
    room.apply("100-7", ChatSettingsChanged(by="mod", slow_mode_seconds=60))
    for i, ts in enumerate((70_000, 71_000)):
        fact = ChatPosted(viewer_id="mod", name="Mo", text=f"t{i}", ts=ts, staff=True)
        assert room.apply(f"100-{8 + i}", fact)


def test_caption_lines_go_out_live_but_stay_out_of_the_history() -> None:
    """A caption line reaches everyone in the room with its picture time, and a client that
    joins later is not handed old lines (they would crowd the chat out of the history)."""
    room = RoomState("ses_a")
    post(room, "100-1", "v1", "hello")
    line = CaptionPosted(cue_id="cap_1", language="sv", text="Välkomna", start_ms=5000, end_ms=6500)
    emits = room.apply("100-2", line)
    assert [(e.event, e.audience) for e in emits] == [
        (
            {"type": "caption.cue", "cue_id": "cap_1", "language": "sv", "text": "Välkomna",
             "start_ms": 5000, "end_ms": 6500, "id": "100-2"},
            Audience.PUBLIC,
        )
    ]  # fmt: skip
    kept = room.since(None)
    assert kept is not None
    assert [e.event["type"] for e in kept] == ["chat.message"]
    assert room.since("100-1") == []
    assert decode_fact(encode_fact(line)) == line


def test_an_interpreter_dropping_out_goes_out_live_to_everyone() -> None:
    """An interpreter going live or dropping reaches the whole room as an ``interpretation``
    event, live only (a joining client is not told old changes)."""
    room = RoomState("ses_a")
    dropped = InterpretationChanged(language="en", live=False)
    emits = room.apply("100-1", dropped)
    assert [(e.event, e.audience) for e in emits] == [
        ({"type": "interpretation", "language": "en", "live": False, "id": "100-1"},
         Audience.PUBLIC)
    ]  # fmt: skip
    assert room.since(None) == []
    assert decode_fact(encode_fact(dropped)) == dropped


def test_a_question_carries_its_origin_and_a_channel_switch_is_an_event() -> None:
    """Moderators see where a question came from (the hall or online); a channel switch in
    the event room reaches everyone with the session now on air and the next one."""
    room = RoomState("ses_a")
    hall = QuestionAsked(question_id="q1", author_id="a", author_name=None, text="From row 3",
                         ts=1, auto_approve=False, hall=True)  # fmt: skip
    web = QuestionAsked(question_id="q2", author_id="b", author_name=None, text="From home",
                        ts=2, auto_approve=False)  # fmt: skip
    (asked_in_hall,) = room.apply("100-1", hall)
    (asked_online,) = room.apply("100-2", web)
    assert asked_in_hall.event["question"]["origin"] == "hall"
    assert asked_online.event["question"]["origin"] == "online"
    assert [q["origin"] for q in room.snapshot("m", staff=True)["questions"]] == ["hall", "online"]
    (switched,) = RoomState("event").apply(
        "100-3", ChannelSwitched(studio_id="std_1", session_id="ses_a", next_session_id=None)
    )
    assert switched.uniform
    assert switched.event == {"id": "100-3", "type": "channel.on_air", "studio_id": "std_1",
                              "session_id": "ses_a", "next_session_id": None}  # fmt: skip
