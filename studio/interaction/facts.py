"""Facts: what happened in a room, as appended to its ordered log. The one vocabulary of the log.

Every node folds the same facts in the same order (``room.RoomState``); facts are msgspec
structs tagged by ``k``. Log ids and their order are defined here too. See
docs/architecture.md, "Realtime" (Facts, not snapshots; Ids come from the log).
"""

from __future__ import annotations

import re

import msgspec

from studio.interaction.qa import QuestionAction

MS_DIGITS, SEQ_DIGITS = 13, 6  # ms since 1970 fit 13 digits until the year 2286
SEQ_MAX = 10**SEQ_DIGITS - 1  # entries of one room in one millisecond, at most SEQ_MAX + 1
_LOG_ID = re.compile(r"(\d{1,20})-(\d{1,20})")


class _Fact(msgspec.Struct, tag_field="k", kw_only=True, omit_defaults=True):
    pass


class ChatPosted(_Fact, tag="chat.posted"):
    """A viewer's chat message (``ts`` in ms, the node's clock when accepted); ``staff``: posted
    by a moderator of the room (slow mode does not apply)."""

    viewer_id: str
    name: str
    text: str
    ts: int
    staff: bool = False


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
    hall: bool = False  # asked from the hall, through its join code (else online)


class QuestionVoted(_Fact, tag="qa.voted"):
    """A viewer upvoted a question (``ts`` in ms; None in logs written before votes had it)."""

    question_id: str
    viewer_id: str
    ts: int | None = None
    hall: bool = False


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
    """A viewer voted in a poll (``ts`` in ms; None in logs written before votes had it)."""

    poll_id: str
    viewer_id: str
    choices: list[int]
    ts: int | None = None
    hall: bool = False


class PollClosed(_Fact, tag="poll.closed"):
    """A moderator closed a poll."""

    poll_id: str
    by: str


class CaptionPosted(_Fact, tag="caption.posted"):
    """A caption line of the session (``start_ms``/``end_ms``: the picture's program date
    times); kept in the store, in the log only to reach WebRTC viewers."""

    cue_id: str
    language: str
    text: str
    start_ms: int
    end_ms: int


class InterpretationChanged(_Fact, tag="interpretation"):
    """An interpreter of the session went live in ``language``, or dropped (``live`` false:
    that language carries the original sound until an interpreter is back)."""

    language: str
    live: bool


class SessionChanged(_Fact, tag="program.session"):
    """The programme changed a session (logged in the ``event`` room)."""

    session_id: str
    state: str
    starts_at: str
    ends_at: str


class ChannelSwitched(_Fact, tag="channel.on_air"):
    """A studio's channel has another session on air, or another next up (logged in the
    ``event`` room; None: nothing on air, nothing planned)."""

    studio_id: str
    session_id: str | None = None
    next_session_id: str | None = None


class SignInEnded(_Fact, tag="sign_in.ended"):
    """A staff sign-in ended (logged in the ``event`` room, shown to no one): a token was
    revoked (``token_id``) or a browser signed out (``web_session``, its id hash)."""

    token_id: str | None = None
    web_session: str | None = None


Fact = (
    ChatPosted | ChatDeleted | ChatSettingsChanged | ViewerModerated | QuestionAsked
    | QuestionVoted | QuestionModerated | QuestionEdited | QuestionMerged | PollOpened
    | PollVoted | PollClosed | CaptionPosted | InterpretationChanged | SessionChanged
    | ChannelSwitched | SignInEnded
)  # fmt: skip

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Fact)


def log_id(ms: int, seq: int) -> str:
    """The log id of an entry: ``<ms>-<seq>``, zero-padded to a fixed width, so ids sort as
    strings in log order (``1732560000123-000009`` < ``1732560000123-000010``)."""
    return f"{ms:0{MS_DIGITS}d}-{seq:0{SEQ_DIGITS}d}"


def parse_log_id(event_id: str) -> tuple[int, int] | None:
    """(ms, seq) of a log id, padded or not (earlier versions did not pad); None if malformed."""
    match = _LOG_ID.fullmatch(event_id)
    return None if match is None else (int(match[1]), int(match[2]))


def log_position(event_id: str) -> tuple[int, int]:
    """Where a log id sorts; a malformed id sorts first."""
    return parse_log_id(event_id) or (0, 0)


def normal_log_id(event_id: str) -> str:
    """A well-formed log id in the padded form (``log_id``)."""
    return log_id(*log_position(event_id))


def encode_fact(fact: Fact) -> bytes:
    """The fact as stored in the log."""
    return _encoder.encode(fact)


def decode_fact(raw: bytes) -> Fact:
    """A fact read back from the log."""
    fact: Fact = _decoder.decode(raw)
    return fact
