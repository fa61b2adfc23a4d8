"""Facts: what happened in a room, as appended to its ordered log. The one vocabulary of the log.

Every node folds the same facts in the same order (``room.RoomState``); facts are msgspec
structs tagged by ``k``. Log ids and their order are defined here too. See
docs/architecture.md, "Realtime" (Facts, not snapshots; Ids come from the log).
"""

from __future__ import annotations

import msgspec

from studio.interaction.qa import QuestionAction


class _Fact(msgspec.Struct, tag_field="k", kw_only=True):
    pass


class ChatPosted(_Fact, tag="chat.posted"):
    """A viewer's chat message (``ts`` in ms, the node's clock when accepted)."""

    viewer_id: str
    name: str
    text: str
    ts: int


class ChatDeleted(_Fact, tag="chat.deleted"):
    """A moderator deleted a message."""

    message_id: str
    by: str


class ChatSettingsChanged(_Fact, tag="chat.settings"):
    """A moderator changed slow mode or the word filter (None: unchanged)."""

    by: str
    slow_mode_seconds: int | None = None
    blocked_words: list[str] | None = None


class ViewerModerated(_Fact, tag="chat.moderation"):
    """A moderator muted (until ``muted_until`` ms; 0 lifts) or banned/unbanned a viewer."""

    viewer_id: str
    by: str
    muted_until: int | None = None
    banned: bool | None = None


class QuestionAsked(_Fact, tag="qa.asked"):
    """A viewer asked a question."""

    question_id: str
    author_id: str
    author_name: str | None
    text: str
    ts: int
    auto_approve: bool


class QuestionVoted(_Fact, tag="qa.voted"):
    """A viewer upvoted a question."""

    question_id: str
    viewer_id: str


class QuestionModerated(_Fact, tag="qa.moderated"):
    """A moderator approved, rejected, highlighted or answered a question."""

    question_id: str
    action: QuestionAction
    by: str


class QuestionEdited(_Fact, tag="qa.edited"):
    """A moderator corrected a question."""

    question_id: str
    text: str
    by: str


class QuestionMerged(_Fact, tag="qa.merged"):
    """A moderator merged a duplicate into another question."""

    question_id: str
    into: str
    by: str


class PollOpened(_Fact, tag="poll.opened"):
    """A moderator opened a poll."""

    poll_id: str
    question: str
    options: list[str]
    multiple: bool
    by: str


class PollVoted(_Fact, tag="poll.voted"):
    """A viewer voted in a poll."""

    poll_id: str
    viewer_id: str
    choices: list[int]


class PollClosed(_Fact, tag="poll.closed"):
    """A moderator closed a poll."""

    poll_id: str
    by: str


class SessionChanged(_Fact, tag="program.session"):
    """The programme changed a session (logged in the ``event`` room)."""

    session_id: str
    state: str
    starts_at: str
    ends_at: str


Fact = (
    ChatPosted | ChatDeleted | ChatSettingsChanged | ViewerModerated | QuestionAsked
    | QuestionVoted | QuestionModerated | QuestionEdited | QuestionMerged | PollOpened
    | PollVoted | PollClosed | SessionChanged
)  # fmt: skip

MODERATOR_FACTS = (
    ChatDeleted, ChatSettingsChanged, ViewerModerated, QuestionModerated, QuestionEdited,
    QuestionMerged, PollOpened, PollClosed,
)  # fmt: skip

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Fact)


def log_position(event_id: str) -> tuple[int, int]:
    """Where a log id ``<ms>-<seq>`` sorts; a malformed id (from a client) sorts first."""
    ms, _, seq = event_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return (0, 0)


def encode_fact(fact: Fact) -> bytes:
    """The fact as stored in the log."""
    return _encoder.encode(fact)


def decode_fact(raw: bytes) -> Fact:
    """A fact read back from the log."""
    fact: Fact = _decoder.decode(raw)
    return fact
