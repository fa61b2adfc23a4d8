"""A room's state, folded from its facts in log order; what each fact shows to whom. Pure.

``evaluate`` checks a fact against the state without changing it (the node calls it before
appending, to answer a refusal at once); ``apply`` folds an appended fact (every node, every
fact, in log order, so all nodes agree); a fact that no longer holds when folded changes
nothing. See docs/architecture.md, "Realtime" (Facts, not snapshots).
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from studio.errors import NotFound, StudioError
from studio.hall import Origin
from studio.interaction import polls, qa
from studio.interaction.chat import ChatModeration, check_may_take_part, check_post
from studio.interaction.facts import (
    CaptionPosted,
    ChannelSwitched,
    ChatDeleted,
    ChatPosted,
    ChatSettingsChanged,
    Fact,
    InterpretationChanged,
    PollClosed,
    PollOpened,
    PollVoted,
    QuestionAsked,
    QuestionEdited,
    QuestionMerged,
    QuestionModerated,
    QuestionVoted,
    SessionChanged,
    SignInEnded,
    ViewerModerated,
    log_position,
)

HISTORY_MAX = 500
Event = dict[str, Any]


class Audience(enum.StrEnum):
    """Who receives an event: everyone in the room, or moderators (and maybe one viewer)."""

    PUBLIC = "public"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class Emit:
    """An event to deliver; a staff event with ``viewer_id`` also reaches that viewer. With
    ``staff_event``, moderators get that form of the event instead (one event, one id). An
    event not ``kept`` goes out live only: a joining client does not get it from the history
    (caption lines, which would crowd the chat out of it)."""

    event: Event
    audience: Audience = Audience.PUBLIC
    viewer_id: str | None = None
    staff_event: Event | None = None
    kept: bool = True

    @property
    def uniform(self) -> bool:
        """Whether every member of the room gets this event, in one form."""
        return self.audience is Audience.PUBLIC and self.staff_event is None

    def visible_to(self, viewer_id: str, *, staff: bool) -> bool:
        """Whether a connection of ``viewer_id`` (a moderator or not) receives this."""
        return self.audience is Audience.PUBLIC or staff or viewer_id == self.viewer_id

    def event_for(self, *, staff: bool) -> Event:
        """The form of the event a moderator (or anyone else) gets."""
        return self.staff_event if staff and self.staff_event is not None else self.event


@dataclass(slots=True)
class Outcome:
    """What folding a fact would change, and the events it shows."""

    emits: list[Emit] = field(default_factory=list)
    moderation: ChatModeration | None = None
    questions: list[qa.Question] = field(default_factory=list)
    poll: polls.Poll | None = None
    new_message: str | None = None
    deleted_message: str | None = None
    posted: tuple[str, int] | None = None


def question_event(question: qa.Question) -> Event:
    """The wire form of a question."""
    return {
        "type": "qa.question",
        "question": {
            "id": question.id,
            "text": question.text,
            "author_name": question.author_name,
            "status": question.status.value,
            "votes": question.vote_count,
            "asked_at": int(question.asked_at),
            "merged_into": question.merged_into,
            "origin": (Origin.HALL if question.hall else Origin.ONLINE).value,
        },
    }


def poll_event(poll: polls.Poll) -> Event:
    """The wire form of a poll with its live results."""
    return {
        "type": "poll",
        "poll": {
            "id": poll.id,
            "question": poll.question,
            "options": list(poll.options),
            "multiple": poll.multiple,
            "open": poll.open,
            "tally": poll.tally(),
            "voters": poll.voters,
        },
    }


class RoomState:
    """Everything a room's facts add up to, plus the recent events for resuming clients."""

    def __init__(self, room: str, *, history_max: int = HISTORY_MAX) -> None:
        self.room = room
        self.last_id = ""
        self.moderation = ChatModeration()
        self.last_post_ms: dict[str, int] = {}
        self.messages: set[str] = set()
        self.questions: dict[str, qa.Question] = {}
        self.polls: dict[str, polls.Poll] = {}
        self.history: deque[tuple[str, Emit]] = deque(maxlen=history_max)
        self._oldest_dropped = ""

    # --- folding ---------------------------------------------------------------------------

    def evaluate(self, fact: Fact, now_ms: int) -> Outcome:
        """What ``fact`` would do now; raise a StudioError if a rule refuses it."""
        match fact:
            case ChatPosted():
                text = check_post(
                    self.moderation,
                    fact.viewer_id,
                    fact.text,
                    now_ms / 1000,
                    _seconds(self.last_post_ms.get(fact.viewer_id)),
                    staff=fact.staff,
                )
                event = {"type": "chat.message", "viewer_id": fact.viewer_id,
                         "name": fact.name, "text": text, "ts": fact.ts}  # fmt: skip
                return Outcome(emits=[Emit(event)], posted=(fact.viewer_id, fact.ts))
            case ChatDeleted():
                if fact.message_id not in self.messages:
                    raise NotFound("message", fact.message_id)
                event = {"type": "chat.deleted", "message_id": fact.message_id}
                return Outcome(emits=[Emit(event)], deleted_message=fact.message_id)
            case ChatSettingsChanged():
                rules = self.moderation
                if fact.slow_mode_seconds is not None:
                    rules = rules.with_slow_mode(fact.slow_mode_seconds)
                if fact.blocked_words is not None:
                    rules = rules.with_filter(fact.blocked_words)
                public = {"type": "chat.settings", "slow_mode_seconds": rules.slow_mode_seconds}
                staff = {**public, "blocked_words": list(rules.blocked_words)}
                return Outcome(emits=[Emit(public, staff_event=staff)], moderation=rules)
            case ViewerModerated():
                rules = self.moderation
                if fact.muted_until is not None:
                    rules = (
                        rules.with_mute(fact.viewer_id, fact.muted_until / 1000)
                        if fact.muted_until
                        else rules.without_mute(fact.viewer_id)
                    )
                if fact.banned is not None:
                    rules = (
                        rules.with_ban(fact.viewer_id)
                        if fact.banned
                        else rules.without_ban(fact.viewer_id)
                    )
                until = rules.muted_until.get(fact.viewer_id)
                event = {"type": "chat.moderation", "viewer_id": fact.viewer_id,
                         "muted_until": None if until is None else int(until * 1000),
                         "banned": fact.viewer_id in rules.banned}  # fmt: skip
                return Outcome(emits=[Emit(event, Audience.STAFF)], moderation=rules)
            case QuestionAsked():
                check_may_take_part(self.moderation, fact.author_id, fact.ts / 1000)
                if fact.question_id in self.questions:
                    raise StudioError("this question was asked already")
                question = qa.ask(
                    fact.question_id, fact.author_id, fact.author_name, fact.text, fact.ts,
                    auto_approve=fact.auto_approve, hall=fact.hall,
                )  # fmt: skip
                return self._questions_changed([question])
            case QuestionVoted():
                check_may_take_part(self.moderation, fact.viewer_id, _seconds(fact.ts))
                question = qa.vote(self._question(fact.question_id), fact.viewer_id)
                return self._questions_changed([question])
            case QuestionModerated():
                changed = qa.moderate(self.questions, fact.question_id, fact.action)
                return self._questions_changed(changed)
            case QuestionEdited():
                return self._questions_changed(
                    [qa.edit(self.questions, fact.question_id, fact.text)]
                )
            case QuestionMerged():
                return self._questions_changed(
                    qa.merge(self.questions, fact.question_id, fact.into)
                )
            case PollOpened():
                if fact.poll_id in self.polls:
                    raise StudioError("this poll exists already")
                poll = polls.open_poll(
                    fact.poll_id, fact.question, fact.options, multiple=fact.multiple
                )
                return Outcome(emits=[Emit(poll_event(poll))], poll=poll)
            case PollVoted():
                check_may_take_part(self.moderation, fact.viewer_id, _seconds(fact.ts))
                poll = polls.cast(self._poll(fact.poll_id), fact.viewer_id, fact.choices)
                return Outcome(emits=[Emit(poll_event(poll))], poll=poll)
            case PollClosed():
                poll = polls.close(self._poll(fact.poll_id))
                return Outcome(emits=[Emit(poll_event(poll))], poll=poll)
            case CaptionPosted():
                event = {"type": "caption.cue", "cue_id": fact.cue_id,
                         "language": fact.language, "text": fact.text,
                         "start_ms": fact.start_ms, "end_ms": fact.end_ms}  # fmt: skip
                return Outcome(emits=[Emit(event, kept=False)])
            case InterpretationChanged():
                event = {"type": "interpretation", "language": fact.language, "live": fact.live}
                return Outcome(emits=[Emit(event, kept=False)])
            case SessionChanged():
                event = {"type": "program.session", "session_id": fact.session_id,
                         "state": fact.state, "starts_at": fact.starts_at,
                         "ends_at": fact.ends_at}  # fmt: skip
                return Outcome(emits=[Emit(event)])
            case ChannelSwitched():
                event = {"type": "channel.on_air", "studio_id": fact.studio_id,
                         "session_id": fact.session_id,
                         "next_session_id": fact.next_session_id}  # fmt: skip
                return Outcome(emits=[Emit(event)])
            case SignInEnded():
                return Outcome()  # for the hub (it ends the sign-in's connections), no one else
        raise AssertionError(f"unknown fact {fact!r}")  # pragma: no cover

    def apply(self, event_id: str, fact: Fact) -> list[Emit]:
        """Fold an appended fact; return the events it shows (none if it no longer holds)."""
        if self.last_id and log_position(event_id) <= log_position(self.last_id):
            return []  # seen already (a redelivery after a reconnect)
        self.last_id = event_id
        try:
            outcome = self.evaluate(fact, now_ms=_fact_time(fact))
        except StudioError:
            return []
        self._commit(event_id, outcome)
        return outcome.emits

    def _commit(self, event_id: str, outcome: Outcome) -> None:
        if outcome.moderation is not None:
            self.moderation = outcome.moderation
        for question in outcome.questions:
            self.questions[question.id] = question
        if outcome.poll is not None:
            self.polls[outcome.poll.id] = outcome.poll
        if outcome.posted is not None:
            viewer, ts = outcome.posted
            self.last_post_ms[viewer] = ts
            self.messages.add(event_id)
        if outcome.deleted_message is not None:
            self.messages.discard(outcome.deleted_message)
            kept = [(i, e) for i, e in self.history if i != outcome.deleted_message
                    or e.event["type"] != "chat.message"]  # fmt: skip
            self.history.clear()
            self.history.extend(kept)
        for emit in outcome.emits:
            emit.event["id"] = event_id
            if emit.staff_event is not None:
                emit.staff_event["id"] = event_id
            if not emit.kept:
                continue
            if len(self.history) == self.history.maxlen:
                self._oldest_dropped = self.history[0][0]
            self.history.append((event_id, emit))

    def _questions_changed(self, changed: list[qa.Question]) -> Outcome:
        emits: list[Emit] = []
        for question in changed:
            event = question_event(question)
            if question.status in qa.PUBLIC:
                emits.append(Emit(event))
            else:
                emits.append(Emit(event, Audience.STAFF, question.author_id))
                before = self.questions.get(question.id)
                if before is not None and before.status in qa.PUBLIC:
                    emits.append(Emit({"type": "qa.removed", "question_id": question.id}))
        return Outcome(emits=emits, questions=changed)

    def _question(self, question_id: str) -> qa.Question:
        try:
            return self.questions[question_id]
        except KeyError:
            raise NotFound("question", question_id) from None

    def _poll(self, poll_id: str) -> polls.Poll:
        try:
            return self.polls[poll_id]
        except KeyError:
            raise NotFound("poll", poll_id) from None

    # --- reading ----------------------------------------------------------------------------

    def since(self, after: str | None) -> list[Emit] | None:
        """Events after ``after`` (all kept history if None); None when they cannot be told:
        ``after`` is older than the kept history, or newer than the log (not an id of it)."""
        if after is None:
            return [emit for _, emit in self.history]
        key = log_position(after)
        if not self.last_id or key > log_position(self.last_id):
            return None
        if self._oldest_dropped and key < log_position(self._oldest_dropped):
            return None
        # From the newest back to ``after``: a client that resumes has missed a few events, so
        # a join storm of reconnecting viewers does not walk the whole history each.
        missed: list[Emit] = []
        for event_id, emit in reversed(self.history):
            if log_position(event_id) <= key:
                break
            missed.append(emit)
        missed.reverse()
        return missed

    def snapshot(self, viewer_id: str, *, staff: bool) -> dict[str, Any]:
        """The room's current state as one viewer (or moderator) may see it."""
        chat: dict[str, Any] = {"slow_mode_seconds": self.moderation.slow_mode_seconds}
        if staff:
            chat["blocked_words"] = list(self.moderation.blocked_words)
        visible = [
            q for q in self.questions.values()
            if q.status is not qa.QuestionStatus.MERGED
            and qa.visible_to(q, viewer_id, moderator=staff)
        ]  # fmt: skip
        return {
            "chat": chat,
            "questions": [question_event(q)["question"] for q in qa.ordered(visible)],
            "polls": [poll_event(p)["poll"] for p in self.polls.values()],
        }


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def _fact_time(fact: Fact) -> int:
    return fact.ts if isinstance(fact, ChatPosted | QuestionAsked) else 0
