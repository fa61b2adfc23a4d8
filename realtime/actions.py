"""What each client frame does: check it, turn it into a fact, append it, answer.

The rules themselves are pure (``studio.interaction``); this module adapts them to the hub and
engine, checks roles and rate limits, and keeps the moderators' audit log. See
docs/architecture.md, "Realtime", and docs/protocol.md for every frame and error.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from realtime import protocol as p
from realtime.connection import Connection
from realtime.engine import now_ms
from realtime.errors import EngineUnavailable, FrameError, RealtimeError
from realtime.frames import CLOSE_POLICY
from realtime.hub import EVENT_ROOM, Hub, frame
from realtime.sessions import SessionCache
from studio.access import Principal
from studio.errors import (
    Conflict,
    Expired,
    Forbidden,
    InvalidInput,
    NotFound,
    Refused,
    StoreUnavailable,
    StudioError,
    Unauthenticated,
)
from studio.interaction import facts as f
from studio.interaction.audit import audit_record
from studio.interaction.chat import clean_name
from studio.interaction.ratelimit import Rate, RateLimiter, TokenBucket
from studio.interaction.viewer_pass import read_pass
from studio.models import AuditEntry
from studio.secrets import new_id
from studio.service import Programme
from studio.signing import Signer
from studio.validation import explain

_E = p.ErrorCode
FRAME_FACTOR = 5  # any frames per connection: this many times the actions' rate and burst


_ERROR_CODES: list[tuple[type[StudioError | RealtimeError], p.ErrorCode]] = [
    (InvalidInput, _E.INVALID_INPUT),
    (NotFound, _E.NOT_FOUND),
    (Refused, _E.REFUSED),
    (Conflict, _E.CONFLICT),
    (Forbidden, _E.FORBIDDEN),
    (Unauthenticated, _E.FORBIDDEN),
    (StoreUnavailable, _E.UNAVAILABLE),
    (EngineUnavailable, _E.UNAVAILABLE),
]


def error_frame(exc: StudioError | RealtimeError, ref: str = "") -> bytes:
    """The error frame answering a refused client frame."""
    if not isinstance(exc, FrameError):
        code = next((c for kind, c in _ERROR_CODES if isinstance(exc, kind)), _E.CONFLICT)
        field = exc.field or None if isinstance(exc, InvalidInput) else None
        exc = FrameError(code, exc.message, field)
    return frame(
        {"type": "error", "code": exc.code.value, "message": exc.message, "ref": ref,
         "field": exc.field}
    )  # fmt: skip


class Actions:
    """Handles client frames for every connection of this node."""

    def __init__(self, hub: Hub, programme: Programme, signer: Signer, *, rate: Rate,
                 address_factor: int, flood_strikes: int) -> None:  # fmt: skip
        self.hub = hub
        self.signer = signer
        self.programme = programme
        # The sessions joins read, kept until they change (realtime/sessions.py): changes made
        # here at once, on other nodes through the event room, all after an engine outage.
        self.sessions = SessionCache(programme.get_session)
        programme.on_session_change(self.sessions.changed, local_only=True)
        hub.event_listeners.append(self.sessions.on_event)
        hub.status_listeners.append(self.sessions.on_status)
        self.by_viewer = RateLimiter(rate)
        self.by_address = RateLimiter(
            Rate(rate.per_second * address_factor, rate.burst * address_factor)
        )
        self.frame_rate = Rate(rate.per_second * FRAME_FACTOR, rate.burst * FRAME_FACTOR)
        self.flood_strikes = flood_strikes

    def welcome(self, viewer_id: str, name: str, principal: Principal | None) -> bytes:
        """The frame that greets a connection once it may take part."""
        role = principal.role.value if principal else "viewer"
        return frame(
            {"type": "welcome", "v": p.PROTOCOL_VERSION, "viewer_id": viewer_id,
             "name": name, "role": role, "node": self.hub.node_id}
        )  # fmt: skip

    async def handle(self, conn: Connection, principal: Principal | None, raw: str | bytes) -> None:
        """Answer one frame: an ack or reply, or an error frame (then, for flooding or a
        missing viewer pass, close the connection); never raise."""
        if conn.dropped:
            return  # closed meanwhile (flooding, sign-in ended): no answer, no effect
        message: p.ClientFrame | None = None
        try:
            self._count(conn)
            message = _decode(raw)
            reply = await (
                self._open_gate(conn, principal, message) if conn.gated
                else self._dispatch(conn, principal, message)
            )  # fmt: skip
            conn.send(frame(reply))
        except (RealtimeError, StudioError) as exc:
            ref = message.ref if message is not None else _ref_of(raw)
            conn.send(error_frame(_named(exc, message), ref))
            if conn.strikes >= self.flood_strikes:
                conn.drop(CLOSE_POLICY, "flooding")
            elif conn.gated:
                conn.drop(CLOSE_POLICY, "an access code or viewer pass is needed")

    def _count(self, conn: Connection) -> None:
        """Every frame takes a token of the connection's budget; past it, frames are refused
        and each refusal is a strike (the last closes the connection)."""
        now = time.monotonic()
        if conn.frames is None:
            conn.frames = TokenBucket(self.frame_rate, now)
        if not conn.frames.allow(now):
            raise self._strike(conn)

    def _limit(self, conn: Connection) -> None:
        """Actions (chat, questions, votes, moderation) per viewer and per address."""
        now = time.monotonic()
        if self.by_viewer.allow(conn.viewer_id, now) and self.by_address.allow(conn.address, now):
            return
        raise self._strike(conn)

    def _strike(self, conn: Connection) -> FrameError:
        conn.strikes += 1
        if conn.strikes >= self.flood_strikes:
            return FrameError(_E.RATE_LIMITED, "too many frames; disconnecting")
        return FrameError(_E.RATE_LIMITED, "you are sending too fast; wait a moment")

    async def _open_gate(
        self, conn: Connection, principal: Principal | None, m: p.ClientFrame
    ) -> dict[str, Any]:
        """The first frame of a connection the access code holds back: a ``hello`` with a
        valid viewer pass lets it in (welcome, then the ack); anything else closes it."""
        if not isinstance(m, p.Hello) or m.viewer_pass is None:
            raise FrameError(_E.FORBIDDEN, "this event asks for an access code: "
                             "send hello with a viewer_pass first")  # fmt: skip
        try:
            reply = self._hello(conn, m)
        except (FrameError, InvalidInput) as exc:
            field = exc.field or None
            raise FrameError(_E.FORBIDDEN, exc.message, field) from None
        conn.gated = False
        conn.send(self.welcome(conn.viewer_id, conn.name, principal))
        return reply

    async def _dispatch(
        self, conn: Connection, who: Principal | None, m: p.ClientFrame
    ) -> dict[str, Any]:
        if isinstance(m, p.Ping):
            return {"type": "pong", "ref": m.ref}
        if isinstance(m, p.Hello):
            return self._hello(conn, m)
        if isinstance(m, p.Join):
            return await self._join(conn, who, m)
        if isinstance(m, p.Leave):
            self.hub.leave(m.room, conn)
            return {"type": "left", "room": m.room, "ref": m.ref}
        self._limit(conn)
        if m.room == EVENT_ROOM:
            raise FrameError(_E.FORBIDDEN, "the event room carries programme changes only", "room")
        if m.room not in conn.rooms:
            raise FrameError(_E.NOT_JOINED, f"join room {m.room!r} first", "room")
        staff = conn.is_staff(m.room)
        if isinstance(m, p.MODERATOR_FRAMES) and not staff:
            raise FrameError(_E.FORBIDDEN, "only moderators of this session may do that")
        auto_approve = False
        if isinstance(m, p.QaAsk):
            auto_approve = (await self.sessions.get(m.room)).qa_auto_approve
        fact = self._fact(conn, who, m, auto_approve=auto_approve, staff=staff)
        live = await self.hub.room(m.room)
        live.state.evaluate(fact, now_ms())
        event_id = await self.hub.engine.append(m.room, f.encode_fact(fact))
        if who is not None:
            await self._audit(m.room, who, fact)
        return {"type": "ack", "ref": m.ref, "id": event_id}

    def _hello(self, conn: Connection, m: p.Hello) -> dict[str, Any]:
        name = None if m.name is None else clean_name(m.name)
        if m.viewer_pass is not None:
            if conn.rooms:
                raise FrameError(_E.CONFLICT, "present the viewer pass before joining rooms")
            now = int(self.programme.clock.now().timestamp())
            holder = read_pass(self.signer, m.viewer_pass, now)
            if holder is None:
                raise FrameError(_E.INVALID_INPUT, "viewer_pass: is not valid", "viewer_pass")
            conn.viewer_id = holder.viewer_id
            name = name or holder.name
        if name is not None:
            conn.name = name
        return {"type": "ack", "ref": m.ref, "name": conn.name, "viewer_id": conn.viewer_id}

    async def _join(self, conn: Connection, who: Principal | None, m: p.Join) -> dict[str, Any]:
        if m.after is not None and f.parse_log_id(m.after) is None:
            raise InvalidInput("after", "must be an event id like 1732560000123-000004")
        staff = hall = False
        if m.room != EVENT_ROOM:
            session = await self.sessions.get(m.room)
            staff = self.programme.may_moderate(who, session)
            if m.code is not None:
                hall = await self._hall_code(m.code, session.studio_id)
        live = await self.hub.room(m.room)
        if staff:
            conn.staff_rooms.add(m.room)
        if hall:
            conn.join_from_hall(m.room)
        self.hub.join(live, conn)
        missed = live.state.since(m.after)
        reset = missed is None
        if missed is None:
            missed = live.state.since(None) or []
        events = [
            e.event_for(staff=staff) for e in missed if e.visible_to(conn.viewer_id, staff=staff)
        ]
        return {
            "type": "joined", "room": m.room, "ref": m.ref, "moderator": staff,
            "reset": reset and m.after is not None, "events": events,
            "state": live.state.snapshot(conn.viewer_id, staff=staff),
            "viewers": live.viewers, "last_id": live.state.last_id,
        }  # fmt: skip

    async def _hall_code(self, code: str, studio_id: str) -> bool:
        """Whether ``code`` is the valid join code of the session's studio (else refused)."""
        try:
            found, _, _ = await self.programme.resolve_join_code(code)
        except (NotFound, Expired, InvalidInput) as exc:
            raise FrameError(_E.INVALID_INPUT, exc.message, "code") from None
        if found.studio_id != studio_id:
            raise FrameError(_E.INVALID_INPUT, "this join code belongs to another studio", "code")
        return True

    def _fact(
        self, conn: Connection, who: Principal | None, m: p.ClientFrame, *, auto_approve: bool,
        staff: bool,
    ) -> f.Fact:  # fmt: skip
        by = who.token_id if who is not None else conn.viewer_id
        match m:
            case p.ChatSend():
                return f.ChatPosted(viewer_id=conn.viewer_id, name=conn.name, text=m.text,
                                    ts=now_ms(), staff=staff)  # fmt: skip
            case p.ChatDelete():
                return f.ChatDeleted(message_id=m.message_id, by=by)
            case p.ChatMute():
                until = now_ms() + m.minutes * 60_000 if m.minutes else 0
                return f.ViewerModerated(viewer_id=m.viewer_id, by=by, muted_until=until)
            case p.ChatBan():
                return f.ViewerModerated(viewer_id=m.viewer_id, by=by, banned=m.banned)
            case p.ChatSlowMode():
                return f.ChatSettingsChanged(by=by, slow_mode_seconds=m.seconds)
            case p.ChatFilter():
                return f.ChatSettingsChanged(by=by, blocked_words=m.words)
            case p.QaAsk():
                return f.QuestionAsked(
                    question_id=new_id("q"), author_id=conn.viewer_id,
                    author_name=None if m.anonymous else conn.name, text=m.text, ts=now_ms(),
                    auto_approve=auto_approve, hall=conn.in_hall(m.room),
                )  # fmt: skip
            case p.QaVote():
                return f.QuestionVoted(question_id=m.question_id, viewer_id=conn.viewer_id,
                                       ts=now_ms(), hall=conn.in_hall(m.room))  # fmt: skip
            case p.QaModerate():
                return f.QuestionModerated(question_id=m.question_id, action=m.action, by=by)
            case p.QaEdit():
                return f.QuestionEdited(question_id=m.question_id, text=m.text, by=by)
            case p.QaMerge():
                return f.QuestionMerged(question_id=m.question_id, into=m.into, by=by)
            case p.PollOpen():
                return f.PollOpened(poll_id=new_id("p"), question=m.question,
                                    options=m.options, multiple=m.multiple, by=by)  # fmt: skip
            case p.PollVote():
                return f.PollVoted(poll_id=m.poll_id, viewer_id=conn.viewer_id,
                                   choices=m.choices, ts=now_ms(),
                                   hall=conn.in_hall(m.room))  # fmt: skip
            case p.PollClose():
                return f.PollClosed(poll_id=m.poll_id, by=by)
        raise FrameError(_E.BAD_FRAME, "this frame type is not an action", "type")

    async def _audit(self, room: str, who: Principal, fact: f.Fact) -> None:
        record = audit_record(fact)
        if record is None:
            return
        await self.programme.record_audit(
            AuditEntry(room=room, at=self.programme.clock.now(), actor_id=who.token_id,
                       actor_name=who.name, action=record.action.value, target=record.target,
                       detail=msgspec.json.encode(record.detail).decode())
        )  # fmt: skip


def _decode(raw: str | bytes) -> p.ClientFrame:
    """Decode a client frame, or raise the FrameError that explains what is wrong with it."""
    if isinstance(raw, bytes):
        raise FrameError(_E.BAD_FRAME, "send JSON text frames")
    if len(raw) > p.FRAME_MAX_BYTES or len(raw.encode()) > p.FRAME_MAX_BYTES:
        raise FrameError(_E.BAD_FRAME, f"frames may be at most {p.FRAME_MAX_BYTES} bytes")
    try:
        return p.decode_client_frame(raw)
    except msgspec.ValidationError as exc:
        field, problem = explain(exc)
        code = _E.BAD_FRAME if field in ("", "type") else _E.INVALID_INPUT
        text = f"{field}: {problem}" if field else problem
        raise FrameError(code, text, field or None) from None
    except msgspec.DecodeError:
        raise FrameError(_E.BAD_FRAME, "the frame is not valid JSON") from None


def _ref_of(raw: str | bytes) -> str:
    """The ref of a frame that did not decode (``""`` if it has none that can be echoed)."""
    return "" if isinstance(raw, bytes) else p.envelope(raw)[1]


def _named(
    exc: StudioError | RealtimeError, m: p.ClientFrame | None
) -> StudioError | RealtimeError:
    """A ``not_found`` names the frame's field that held the unknown id (``room``,
    ``question_id``, ``into``, ``poll_id``, ``message_id``)."""
    if not isinstance(exc, NotFound) or m is None:
        return exc
    fields = [name for name in m.__struct_fields__ if getattr(m, name) == exc.ident]
    return FrameError(_E.NOT_FOUND, exc.message, fields[0] if fields else None)
