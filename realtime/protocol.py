"""The websocket protocol, version 1: every frame type and field, in one place.

Client frames are JSON objects tagged by ``type`` that decode into the structs below; server
frames are answers (``welcome``, ``joined``, ``ack``, ``error``, ``pong``) and ``events`` frames.
docs/protocol.md describes it for client authors; docs/architecture.md, "Realtime", the parts.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

import msgspec

from studio.interaction.chat import NAME_MAX, SLOW_MODE_MAX, TEXT_MAX
from studio.interaction.polls import OPTION_MAX, OPTIONS_MAX, POLL_QUESTION_MAX
from studio.interaction.qa import QUESTION_MAX, QuestionAction

PROTOCOL_VERSION = 1
FRAME_MAX_BYTES = 8192
REF_MAX = 64


class ServerType(enum.StrEnum):
    """Frames the server sends."""

    WELCOME = "welcome"
    JOINED = "joined"
    LEFT = "left"
    EVENTS = "events"
    ACK = "ack"
    ERROR = "error"
    PONG = "pong"
    NOTICE = "notice"
    VIEWERS = "viewers"


class EventType(enum.StrEnum):
    """Events in a room's ordered log (each has an id clients resume from)."""

    CHAT_MESSAGE = "chat.message"
    CHAT_DELETED = "chat.deleted"
    CHAT_SETTINGS = "chat.settings"
    QA_QUESTION = "qa.question"
    POLL = "poll"
    CAPTION = "caption.cue"
    INTERPRETATION = "interpretation"
    PROGRAM = "program.session"
    CHANNEL = "channel.on_air"


class ErrorCode(enum.StrEnum):
    """Why a client frame was refused."""

    BAD_FRAME = "bad_frame"
    INVALID_INPUT = "invalid_input"
    NOT_JOINED = "not_joined"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    REFUSED = "refused"
    RATE_LIMITED = "rate_limited"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"


Room = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Ref = Annotated[str, msgspec.Meta(max_length=REF_MAX)]
Ident = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=NAME_MAX)]
ChatText = Annotated[str, msgspec.Meta(max_length=TEXT_MAX * 2)]
QuestionText = Annotated[str, msgspec.Meta(max_length=QUESTION_MAX * 2)]


class _Frame(msgspec.Struct, tag_field="type", kw_only=True):
    """Fields a frame does not know are ignored: a newer client works with an older server."""

    ref: Ref = ""


class Hello(_Frame, tag="hello"):
    """Say who you are: a display name and, if you have one, your viewer pass."""

    v: int = PROTOCOL_VERSION
    name: DisplayName | None = None
    viewer_pass: str | None = None


class Join(_Frame, tag="join"):
    """Join a room (a session id, or ``event`` for programme changes); resume after an id.
    ``code``: the hall's join code, when the client joined through it (what it does in the
    room then counts as the hall's)."""

    room: Room
    after: str | None = None
    code: Annotated[str, msgspec.Meta(max_length=12)] | None = None


class Leave(_Frame, tag="leave"):
    """Leave a room."""

    room: Room


class Ping(_Frame, tag="ping"):
    """Keep-alive; answered with ``pong``."""


class ChatSend(_Frame, tag="chat.send"):
    """Post a chat message."""

    room: Room
    text: ChatText


class ChatDelete(_Frame, tag="chat.delete"):
    """(moderator) Delete a message for everyone, history included."""

    room: Room
    message_id: Ident


class ChatMute(_Frame, tag="chat.mute"):
    """(moderator) Mute a viewer for some minutes (0 lifts the mute)."""

    room: Room
    viewer_id: Ident
    minutes: Annotated[int, msgspec.Meta(ge=0, le=24 * 60)] = 10


class ChatBan(_Frame, tag="chat.ban"):
    """(moderator) Ban a viewer from the room's chat, or lift the ban."""

    room: Room
    viewer_id: Ident
    banned: bool = True


class ChatSlowMode(_Frame, tag="chat.slow_mode"):
    """(moderator) One message per ``seconds`` per viewer; 0 turns slow mode off."""

    room: Room
    seconds: Annotated[int, msgspec.Meta(ge=0, le=SLOW_MODE_MAX)]


class ChatFilter(_Frame, tag="chat.filter"):
    """(moderator) Replace the room's blocked words."""

    room: Room
    words: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=50)]], msgspec.Meta(max_length=200)
    ]


class QaAsk(_Frame, tag="qa.ask"):
    """Ask a question, with your display name or anonymously."""

    room: Room
    text: QuestionText
    anonymous: bool = False


class QaVote(_Frame, tag="qa.vote"):
    """Upvote an approved question (once)."""

    room: Room
    question_id: Ident


class QaModerate(_Frame, tag="qa.moderate"):
    """(moderator) approve, reject, answering (highlight) or answered."""

    room: Room
    question_id: Ident
    action: QuestionAction


class QaEdit(_Frame, tag="qa.edit"):
    """(moderator) Correct a question's text."""

    room: Room
    question_id: Ident
    text: QuestionText


class QaMerge(_Frame, tag="qa.merge"):
    """(moderator) Merge a duplicate into another question."""

    room: Room
    question_id: Ident
    into: Ident


class PollOpen(_Frame, tag="poll.open"):
    """(moderator) Open a poll."""

    room: Room
    question: Annotated[str, msgspec.Meta(max_length=POLL_QUESTION_MAX * 2)]
    options: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=OPTION_MAX * 2)]],
        msgspec.Meta(max_length=OPTIONS_MAX + 1),
    ]
    multiple: bool = False


class PollVote(_Frame, tag="poll.vote"):
    """Vote in an open poll (once); ``choices`` are option indexes."""

    room: Room
    poll_id: Ident
    choices: Annotated[list[int], msgspec.Meta(max_length=OPTIONS_MAX)]


class PollClose(_Frame, tag="poll.close"):
    """(moderator) Close a poll."""

    room: Room
    poll_id: Ident


ClientFrame = (
    Hello | Join | Leave | Ping | ChatSend | ChatDelete | ChatMute | ChatBan | ChatSlowMode
    | ChatFilter | QaAsk | QaVote | QaModerate | QaEdit | QaMerge | PollOpen | PollVote
    | PollClose
)  # fmt: skip

MODERATOR_FRAMES: tuple[type[_Frame], ...] = (
    ChatDelete, ChatMute, ChatBan, ChatSlowMode, ChatFilter, QaModerate, QaEdit, QaMerge,
    PollOpen, PollClose,
)  # fmt: skip

_decoder = msgspec.json.Decoder(ClientFrame)


def decode_client_frame(raw: str | bytes) -> ClientFrame:
    """Decode one client frame; raise msgspec errors for the caller to explain."""
    frame: ClientFrame = _decoder.decode(raw)
    return frame


class _Envelope(msgspec.Struct):
    type: Any = None
    ref: Any = None


_envelope = msgspec.json.Decoder(_Envelope)


def envelope(raw: str | bytes) -> tuple[str | None, str]:
    """The ``type`` and ``ref`` of a frame that may be wrong in other ways (the ref is ``""``
    unless it is a string of at most ``REF_MAX`` characters)."""
    try:
        found = _envelope.decode(raw)
    except msgspec.MsgspecError:
        return None, ""
    kind = found.type if isinstance(found.type, str) else None
    ref = found.ref if isinstance(found.ref, str) and len(found.ref) <= REF_MAX else ""
    return kind, ref
