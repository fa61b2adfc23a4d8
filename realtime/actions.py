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
from studio.access import Action, Principal, authorize
from studio.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Refused,
    StoreUnavailable,
    StudioError,
    Unauthenticated,
)
from studio.interaction import facts as f
from studio.interaction.ratelimit import Rate, RateLimiter
from studio.models import AuditEntry
from studio.secrets import new_id
from studio.service import Programme
from studio.signing import Signer
from studio.validation import explain

_E = p.ErrorCode


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
        self.by_viewer = RateLimiter(rate)
        self.by_address = RateLimiter(
            Rate(rate.per_second * address_factor, rate.burst * address_factor)
        )
        self.flood_strikes = flood_strikes

    async def handle(self, conn: Connection, principal: Principal | None, raw: str) -> None:
        """Answer one text frame: an ack or reply, or an error frame; never raise."""
        ref = ""
        try:
            if len(raw.encode()) > p.FRAME_MAX_BYTES:
                raise FrameError(_E.BAD_FRAME, f"frames may be at most {p.FRAME_MAX_BYTES} bytes")
            try:
                message = p.decode_client_frame(raw)
            except msgspec.ValidationError as exc:
                field, problem = explain(exc)
                code = _E.BAD_FRAME if field in ("", "type") else _E.INVALID_INPUT
                text = f"{field}: {problem}" if field else problem
                raise FrameError(code, text, field or None) from None
            except msgspec.DecodeError:
                raise FrameError(_E.BAD_FRAME, "the frame is not valid JSON") from None
            ref = message.ref
            reply = await self._dispatch(conn, principal, message)
            conn.send(frame(reply))
        except (RealtimeError, StudioError) as exc:
            conn.send(error_frame(exc, ref))

    def _limit(self, conn: Connection) -> None:
        now = time.monotonic()
        if self.by_viewer.allow(conn.viewer_id, now) and self.by_address.allow(conn.address, now):
            return
        conn.strikes += 1
        if conn.strikes >= self.flood_strikes:
            conn.send(error_frame(FrameError(_E.RATE_LIMITED, "too many messages; disconnecting")))
            conn.drop(CLOSE_POLICY, "flooding")
        raise FrameError(_E.RATE_LIMITED, "you are sending too fast; wait a moment")

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
            raise FrameError(_E.FORBIDDEN, "the event room carries programme changes only")
        if m.room not in conn.rooms:
            raise FrameError(_E.NOT_JOINED, f"join room {m.room!r} first")
        if isinstance(m, p.MODERATOR_FRAMES) and not conn.is_staff(m.room):
            raise FrameError(_E.FORBIDDEN, "only moderators of this session may do that")
        auto_approve = False
        if isinstance(m, p.QaAsk):
            auto_approve = (await self.programme.get_session(m.room)).qa_auto_approve
        fact = self._fact(conn, who, m, auto_approve)
        live = await self.hub.room(m.room)
        live.state.evaluate(fact, now_ms())
        event_id = await self.hub.engine.append(m.room, f.encode_fact(fact))
        if isinstance(fact, f.MODERATOR_FACTS) and who is not None:
            await self._audit(m.room, who, fact)
        return {"type": "ack", "ref": m.ref, "id": event_id}

    def _hello(self, conn: Connection, m: p.Hello) -> dict[str, Any]:
        if m.viewer_pass is not None:
            if conn.rooms:
                raise FrameError(_E.CONFLICT, "present the viewer pass before joining rooms")
            now = int(self.programme.clock.now().timestamp())
            viewer = self.signer.unsign("viewer", m.viewer_pass, now)
            if viewer is None:
                raise FrameError(_E.INVALID_INPUT, "viewer_pass: is not valid", "viewer_pass")
            conn.viewer_id = viewer
        if m.name is not None:
            conn.name = m.name.strip() or conn.name
        return {"type": "ack", "ref": m.ref, "name": conn.name, "viewer_id": conn.viewer_id}

    async def _join(self, conn: Connection, who: Principal | None, m: p.Join) -> dict[str, Any]:
        staff = False
        if m.room != EVENT_ROOM:
            session = await self.programme.get_session(m.room)
            try:
                authorize(who, Action.MODERATE, session.studio_id)
                staff = True
            except (Forbidden, Unauthenticated):
                staff = False
        live = await self.hub.room(m.room)
        if staff:
            conn.staff_rooms.add(m.room)
        self.hub.join(live, conn)
        missed = live.state.since(m.after)
        reset = missed is None
        if missed is None:
            missed = live.state.since(None) or []
        events = [e.event for e in missed if e.visible_to(conn.viewer_id, staff=staff)]
        return {
            "type": "joined", "room": m.room, "ref": m.ref, "moderator": staff,
            "reset": reset and m.after is not None, "events": events,
            "state": live.state.snapshot(conn.viewer_id, staff=staff),
            "viewers": live.viewers, "last_id": live.state.last_id,
        }  # fmt: skip

    def _fact(
        self, conn: Connection, who: Principal | None, m: p.ClientFrame, auto_approve: bool
    ) -> f.Fact:
        by = who.token_id if who is not None else conn.viewer_id
        match m:
            case p.ChatSend():
                return f.ChatPosted(viewer_id=conn.viewer_id, name=conn.name, text=m.text,
                                    ts=now_ms())  # fmt: skip
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
                    auto_approve=auto_approve,
                )  # fmt: skip
            case p.QaVote():
                return f.QuestionVoted(question_id=m.question_id, viewer_id=conn.viewer_id)
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
                return f.PollVoted(poll_id=m.poll_id, viewer_id=conn.viewer_id, choices=m.choices)
            case p.PollClose():
                return f.PollClosed(poll_id=m.poll_id, by=by)
        raise FrameError(_E.BAD_FRAME, "this frame type is not an action")

    async def _audit(self, room: str, who: Principal, fact: f.Fact) -> None:
        data = msgspec.to_builtins(fact)
        action = str(data.pop("k"))
        data.pop("by", None)
        target = str(next(iter(data.values()), ""))
        await self.programme.store.add_audit(
            AuditEntry(room=room, at=self.programme.clock.now(), actor_id=who.token_id,
                       actor_name=who.name, action=action, target=target,
                       detail=msgspec.json.encode(data).decode())
        )  # fmt: skip
