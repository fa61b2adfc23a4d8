"""The programme service: every use case of the programme, with its access check.

It adapts the pure rules (``access``, ``states``, ``schedule``, ``models``, ``program_io``) to the
store, and hands each session change to its listeners. The web edge, the CLI, the scheduler and
the media plane go through it (docs/architecture.md, "How data flows").
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import msgspec

from config import Settings
from config.settings import DEMO_PROGRAM_FILE
from studio import interpretation, program_io
from studio.access import Action, Principal, authorize
from studio.branding_cases import BrandingCases
from studio.captions import cues as captions
from studio.captions.cues import CaptionInput, CaptionPatch, Cue
from studio.channel import ChannelNow, channel_now
from studio.clip_cases import ClipCases
from studio.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    Unauthenticated,
)
from studio.hall import JoinCode, check_code, usable
from studio.interaction.facts import SignInEnded
from studio.models import (
    ApiToken,
    AuditEntry,
    Session,
    SessionInput,
    SessionPatch,
    Studio,
    StudioInput,
    StudioPatch,
    TokenInput,
    check_instant,
    check_times,
    clean_text,
)
from studio.program_io import ImportDefaults, ImportResult, ProgramDocument
from studio.report import SessionReport, build_report
from studio.roles import Role
from studio.schedule import Decision, decide
from studio.secrets import hash_secret, new_id, new_secret
from studio.states import EDITABLE_TIMES, RecordingState, SessionEvent, SessionState
from studio.store import Destination, RecordingRecord, Store

log = logging.getLogger(__name__)

SessionListener = Callable[[Session], Awaitable[None]]
SignInListener = Callable[[SignInEnded], Awaitable[None]]
CaptionListener = Callable[[Cue], Awaitable[None]]
MAX_RESTREAM_DESTINATIONS = 5
_OVER = frozenset({SessionState.ENDED, SessionState.REPLAY, SessionState.CANCELLED})


class Clock(Protocol):
    """Tells the time; tests pass a clock they move by hand."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class NewSession:
    """A created session and its stream key, shown this once."""

    session: Session
    stream_key: str


@dataclass(frozen=True, slots=True)
class SignIn:
    """A browser sign-in made from a token: the cookie's secret (shown this once) and how long
    it lasts."""

    token: ApiToken
    cookie: str
    lifetime: timedelta


class Programme(ClipCases, BrandingCases):
    """Use cases of the programme (those of clips in ``clip_cases``, of the branding in
    ``branding_cases``)."""

    def __init__(self, store: Store, settings: Settings, clock: Clock | None = None) -> None:
        self.store = store
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._listeners: list[tuple[SessionListener, bool]] = []  # (listener, local only)
        self._sign_in_listeners: list[SignInListener] = []
        self._caption_listeners: list[CaptionListener] = []

    def on_sign_in_ended(self, listener: SignInListener) -> None:
        """Call ``listener`` when a token is revoked or a browser signs out (the realtime hub
        of every node closes the websockets that sign-in opened)."""
        self._sign_in_listeners.append(listener)

    async def _sign_in_ended(self, ended: SignInEnded) -> None:
        for listener in self._sign_in_listeners:
            try:
                await listener(ended)
            except Exception:  # the sign-in ended all the same: log, never undo
                log.exception("sign-in listener failed")

    # --- session changes --------------------------------------------------------------------

    def on_session_change(self, listener: SessionListener, *, local_only: bool = False) -> None:
        """Call ``listener`` with the new record whenever a session changes or is created: on
        this node, and (unless ``local_only``: announcing changes to the other nodes) when
        another node changed a session this node follows (``changed_elsewhere``)."""
        self._listeners.append((listener, local_only))

    async def changed_elsewhere(self, session: Session) -> None:
        """Hand a session another node changed, as re-read here, to the listeners that follow
        such changes."""
        await self._tell(session, elsewhere=True)

    async def _changed(self, session: Session) -> None:
        await self._tell(session, elsewhere=False)

    async def _tell(self, session: Session, *, elsewhere: bool) -> None:
        for listener, local_only in self._listeners:
            if elsewhere and local_only:
                continue
            try:
                await listener(session)
            except Exception:  # a listener's failure must not undo a committed change
                log.exception("session listener failed for %s", session.id)

    # --- public reads (anyone who may watch the event) ---------------------------------------

    async def get_studio(self, studio_id: str) -> Studio:
        """One studio (raises NotFound)."""
        return await self.store.get_studio(studio_id)

    async def list_studios(self) -> list[Studio]:
        """Every studio, by name."""
        return await self.store.list_studios()

    async def get_session(self, session_id: str) -> Session:
        """One session (raises NotFound)."""
        return await self.store.get_session(session_id)

    async def list_sessions(self, studio_id: str | None = None) -> list[Session]:
        """The programme's sessions in time order, optionally of one studio."""
        return await self.store.list_sessions(studio_id=studio_id)

    async def _session_as(self, who: Principal | None, session_id: str, action: Action) -> Session:
        """The session, if the caller may do ``action`` in its studio."""
        session = await self.store.get_session(session_id)
        authorize(who, action, session.studio_id)
        return session

    # --- studios ----------------------------------------------------------------------------

    async def create_studio(self, who: Principal | None, data: StudioInput) -> Studio:
        """Create a studio (admin)."""
        authorize(who, Action.MANAGE_STUDIOS)
        return await self.store.create_studio(clean_text("name", data.name), self.clock.now())

    async def update_studio(
        self, who: Principal | None, studio_id: str, data: StudioPatch
    ) -> Studio:
        """Rename a studio or turn its channel's playout on or off (admin)."""
        authorize(who, Action.MANAGE_STUDIOS)
        studio = await self.store.get_studio(studio_id)
        if not isinstance(data.name, msgspec.UnsetType):
            studio = await self.store.rename_studio(studio_id, clean_text("name", data.name))
        if not isinstance(data.playout, msgspec.UnsetType):
            studio = await self.store.set_playout(studio_id, data.playout)
        return studio

    async def delete_studio(self, who: Principal | None, studio_id: str) -> None:
        """Delete an empty studio (admin)."""
        authorize(who, Action.MANAGE_STUDIOS)
        await self.store.delete_studio(studio_id)

    # --- the studio's channel and hall ------------------------------------------------------

    async def channel(self, studio_id: str) -> tuple[Studio, ChannelNow]:
        """The studio and what its channel shows now (anyone: the channel is public)."""
        studio = await self.store.get_studio(studio_id)
        sessions = await self.store.list_sessions(studio_id=studio_id)
        return studio, channel_now(sessions, self.clock.now())

    async def join_code(self, studio_id: str) -> JoinCode:
        """The studio's valid join code, issued on first use (the hall screen shows it)."""
        return await self.store.studio_join_code(studio_id, self.clock.now(), renew=False)

    async def renew_join_code(self, who: Principal | None, studio_id: str) -> JoinCode:
        """Issue the studio a new join code; the old one stops working at once (operators)."""
        authorize(who, Action.MANAGE_SESSIONS, studio_id)
        return await self.store.studio_join_code(studio_id, self.clock.now(), renew=True)

    async def resolve_join_code(self, text: str) -> tuple[JoinCode, Studio, ChannelNow]:
        """What a join code opens: its studio and what the studio has on air; an unknown code
        is ``NotFound``, an expired one ``Expired``."""
        code = check_code(text)
        found = usable(await self.store.join_code(code), code, self.clock.now())
        studio, now = await self.channel(found.studio_id)
        return found, studio, now

    # --- sessions ---------------------------------------------------------------------------

    async def create_session(self, who: Principal | None, data: SessionInput) -> NewSession:
        """Schedule a session in a studio the caller runs; return it with its new stream key."""
        authorize(who, Action.MANAGE_SESSIONS, data.studio_id)
        await self.store.get_studio(data.studio_id)
        check_times(data.starts_at, data.ends_at)
        now = self.clock.now()
        session = Session(
            id=new_id("ses"),
            studio_id=data.studio_id,
            title=clean_text("title", data.title),
            description=data.description.strip(),
            speakers=tuple(clean_text(f"speakers[{i}]", s) for i, s in enumerate(data.speakers)),
            language=data.language or self.settings.event.default_language,
            starts_at=data.starts_at.astimezone(UTC),
            ends_at=data.ends_at.astimezone(UTC),
            state=SessionState.SCHEDULED,
            auto_start=self.settings.scheduler.auto_start
            if data.auto_start is None
            else data.auto_start,
            auto_end=data.auto_end,
            qa_auto_approve=data.qa_auto_approve,
            created_at=now,
            updated_at=now,
        )
        key = new_secret("sk")
        await self.store.create_session(session, hash_secret(key))
        await self._changed(session)
        return NewSession(session, key)

    async def update_session(
        self, who: Principal | None, session_id: str, patch: SessionPatch
    ) -> Session:
        """Change fields of a session; times and studio only while it is not over."""
        current = await self._session_as(who, session_id, Action.MANAGE_SESSIONS)
        changes = {f: v for f, v in msgspec.structs.asdict(patch).items() if v is not msgspec.UNSET}
        if "studio_id" in changes:
            authorize(who, Action.MANAGE_SESSIONS, changes["studio_id"])
            await self.store.get_studio(changes["studio_id"])
            if current.state is SessionState.LIVE and changes["studio_id"] != current.studio_id:
                raise Conflict("a live session cannot move to another studio")
        timing = {"studio_id", "starts_at", "ends_at"} & changes.keys()
        if timing and current.state not in EDITABLE_TIMES:
            raise Conflict(f"the time and studio of a session that is {current.state} are fixed")
        if "title" in changes:
            changes["title"] = clean_text("title", changes["title"])
        if "description" in changes:
            changes["description"] = changes["description"].strip()
        if "speakers" in changes:
            changes["speakers"] = tuple(
                clean_text(f"speakers[{i}]", s) for i, s in enumerate(changes["speakers"])
            )
        for field in ("starts_at", "ends_at"):
            if field in changes:
                check_instant(field, changes[field])
                changes[field] = changes[field].astimezone(UTC)
        updated = msgspec.structs.replace(current, **changes, updated_at=self.clock.now())
        check_times(updated.starts_at, updated.ends_at)
        await self.store.update_session(updated)
        await self._changed(updated)
        return updated

    async def delete_session(self, who: Principal | None, session_id: str) -> None:
        """Delete a session that is not on air."""
        current = await self._session_as(who, session_id, Action.MANAGE_SESSIONS)
        if current.state is SessionState.LIVE:
            raise Conflict("end the broadcast before deleting a live session")
        await self.store.delete_session(session_id)

    async def _step(self, session_id: str, event: SessionEvent) -> Session:
        _, after = await self.store.transition_session(session_id, event, self.clock.now())
        await self._changed(after)
        return after

    async def _step_as(
        self, who: Principal | None, session_id: str, event: SessionEvent, action: Action
    ) -> Session:
        await self._session_as(who, session_id, action)
        return await self._step(session_id, event)

    async def go_live(self, who: Principal | None, session_id: str) -> Session:
        """Start the broadcast now."""
        return await self._step_as(who, session_id, SessionEvent.GO_LIVE, Action.BROADCAST)

    async def end(self, who: Principal | None, session_id: str) -> Session:
        """End the broadcast now (or mark a session that never went live as over)."""
        return await self._step_as(who, session_id, SessionEvent.END, Action.BROADCAST)

    async def cancel(self, who: Principal | None, session_id: str) -> Session:
        """Call a session off; it stays in the programme, marked cancelled."""
        return await self._step_as(who, session_id, SessionEvent.CANCEL, Action.MANAGE_SESSIONS)

    async def extend(self, who: Principal | None, session_id: str, minutes: int) -> Session:
        """Push the planned end later so the scheduler does not end a running session."""
        current = await self._session_as(who, session_id, Action.BROADCAST)
        if current.state not in EDITABLE_TIMES:
            raise Conflict(f"a session that is {current.state} cannot be extended")
        check_instant("ends_at", current.ends_at)  # a row stored before the range was checked
        longer = SessionPatch(ends_at=current.ends_at + timedelta(minutes=minutes))
        return await self.update_session(who, session_id, longer)

    async def rotate_stream_key(self, who: Principal | None, session_id: str) -> str:
        """Issue a new stream key for a session; the old one stops working."""
        await self._session_as(who, session_id, Action.MANAGE_STREAM_KEYS)
        key = new_secret("sk")
        await self.store.set_stream_key_hash(session_id, hash_secret(key), self.clock.now())
        return key

    async def session_for_stream_key(self, key: str) -> Session | None:
        """The session a presented stream key opens, if any."""
        return await self.store.session_by_stream_key_hash(hash_secret(key))

    async def ingest_up(self, session_id: str) -> Session:
        """The media plane reports a publisher connected. An auto-starting session whose
        planned start has come goes live at once (what the scheduler would do at its next
        tick, up to a second later: the viewers' first picture would wait for it)."""
        after = await self._step(session_id, SessionEvent.INGEST_UP)
        for decision in self._due(after):
            if decision.event is SessionEvent.GO_LIVE:
                try:
                    after = await self._step(session_id, SessionEvent.GO_LIVE)
                except InvalidTransition:
                    break  # another node or an operator moved it first
                log.info("session %s: %s (%s)", session_id, decision.event, decision.reason)
        return after

    async def ingest_down(self, session_id: str) -> Session:
        """The media plane reports the publisher gone."""
        return await self._step(session_id, SessionEvent.INGEST_DOWN)

    async def replay_ready(self, session_id: str) -> Session:
        """The media plane reports the recording is published."""
        return await self._step(session_id, SessionEvent.REPLAY_READY)

    # The staff views below take the session as read (``get_session``): an unknown session is
    # answered 404 before the caller's credentials are looked at.

    def check_ingest_access(self, who: Principal | None, session: Session) -> None:
        """Raise unless the caller may see the session's ingest addresses (its operators)."""
        authorize(who, Action.SEE_INGEST, session.studio_id)

    def check_health_access(self, who: Principal | None, session: Session) -> None:
        """Raise unless the caller may see the session's ingest health (staff of its studio)."""
        authorize(who, Action.SEE_HEALTH, session.studio_id)

    # --- what the rooms leave behind --------------------------------------------------------

    async def audit(self, who: Principal | None, session: Session) -> list[AuditEntry]:
        """The moderators' actions in a session's room, oldest first (its moderators)."""
        authorize(who, Action.MODERATE, session.studio_id)
        return await self.store.audit(session.id)

    async def record_audit(self, entry: AuditEntry) -> None:
        """The realtime actions record a moderator's action."""
        await self.store.add_audit(entry)

    async def report(self, who: Principal | None, session: Session) -> SessionReport:
        """A session's after-event report: viewers per minute, questions and chat volume."""
        authorize(who, Action.SEE_REPORT, session.studio_id)
        return build_report(
            session.id,
            session.title,
            await self.store.viewer_timeline(session.id),
            await self.store.room_facts(session.id),
        )

    # --- recordings -------------------------------------------------------------------------

    async def recording(
        self, who: Principal | None, session_id: str
    ) -> tuple[Session, RecordingRecord | None]:
        """A session and its recording's record (operators of its studio)."""
        session = await self._session_as(who, session_id, Action.BROADCAST)
        return session, await self.store.get_recording(session_id)

    async def trim_recording(
        self, who: Principal | None, session_id: str, start: float, end: float | None
    ) -> RecordingRecord:
        """Keep only ``start``..``end`` seconds of a replay (checked against its duration at
        the edge); the media plane then rebuilds the download."""
        session, record = await self.recording(who, session_id)
        if session.state is not SessionState.REPLAY or record is None:
            raise Conflict(
                f"the session is {session.state.value}; only a published replay can be trimmed"
            )
        if record.state not in (RecordingState.READY, RecordingState.BUILDING):
            raise Conflict(f"the recording is {record.state.value}; it cannot be trimmed")
        trimmed = dataclasses.replace(
            record,
            state=RecordingState.BUILDING,
            message="",
            trim_start=start,
            trim_end=end,
            updated_at=self.clock.now(),
        )
        await self.store.save_recording(trimmed)
        return trimmed

    async def recording_status(self, session_id: str) -> RecordingRecord | None:
        """The media plane reads a session's recording record."""
        return await self.store.get_recording(session_id)

    async def save_recording(self, record: RecordingRecord) -> None:
        """The media plane records how building a session's recording went."""
        await self.store.save_recording(record)

    async def ended_sessions(self) -> list[Session]:
        """Sessions whose broadcast is over but whose replay is not published yet."""
        return await self.store.list_sessions(states=[SessionState.ENDED])

    async def unfinished_recordings(self) -> list[RecordingRecord]:
        """Recordings whose build or trim had not finished (the node stopped meanwhile)."""
        return await self.store.recordings_in(RecordingState.BUILDING)

    # --- restream destinations --------------------------------------------------------------

    async def list_destinations(
        self, who: Principal | None, session_id: str
    ) -> tuple[Session, list[Destination]]:
        """A session's restream destinations (operators of its studio)."""
        session = await self._session_as(who, session_id, Action.RESTREAM)
        return session, await self.store.list_destinations(session_id)

    async def add_destination(
        self, who: Principal | None, session_id: str, *, name: str, url: str, enabled: bool = True
    ) -> Destination:
        """Add a restream destination (``url`` already checked at the edge: rtmp(s) with a host).

        At most ``MAX_RESTREAM_DESTINATIONS`` per session; none for a session that is over.
        """
        session = await self._session_as(who, session_id, Action.RESTREAM)
        if session.state in _OVER:
            raise Conflict(
                f"the session is {session.state.value}; it cannot be restreamed any more"
            )
        now = self.clock.now()
        destination = Destination(
            id=new_id("rst"),
            session_id=session_id,
            name=clean_text("name", name),
            url=url,
            enabled=enabled,
            created_at=now,
            updated_at=now,
        )
        return await self.store.add_destination(destination, limit=MAX_RESTREAM_DESTINATIONS)

    async def update_destination(
        self,
        who: Principal | None,
        session_id: str,
        destination_id: str,
        *,
        name: str | None = None,
        enabled: bool | None = None,
    ) -> Destination:
        """Rename a restream destination or switch it on or off."""
        await self._session_as(who, session_id, Action.RESTREAM)
        return await self.store.update_destination(
            session_id,
            destination_id,
            self.clock.now(),
            name=None if name is None else clean_text("name", name),
            enabled=enabled,
        )

    async def remove_destination(
        self, who: Principal | None, session_id: str, destination_id: str
    ) -> None:
        """Remove a restream destination (a running push to it stops)."""
        await self._session_as(who, session_id, Action.RESTREAM)
        await self.store.delete_destination(session_id, destination_id)

    async def pushes_due(self, session_id: str) -> tuple[bool, list[Destination]]:
        """The restreamer asks whether a session is live, and its enabled destinations."""
        try:
            session = await self.store.get_session(session_id)
        except NotFound:
            return False, []
        if session.state is not SessionState.LIVE:
            return False, []
        found = await self.store.list_destinations(session_id)
        return True, [d for d in found if d.enabled]

    # --- captions ---------------------------------------------------------------------------

    def on_caption(self, listener: CaptionListener) -> None:
        """Call ``listener`` with every new cue (the realtime hub sends it to WebRTC viewers)."""
        self._caption_listeners.append(listener)

    @property
    def caption_languages(self) -> tuple[str, ...]:
        """The languages the event captions in (each an HLS subtitle rendition)."""
        return tuple(self.settings.captions.languages)

    def check_caption_access(self, who: Principal | None, session: Session) -> None:
        """Raise unless the caller may caption the session (captioners of its studio)."""
        authorize(who, Action.CAPTION, session.studio_id)

    async def add_caption(self, who: Principal | None, session_id: str, data: CaptionInput) -> Cue:
        """Keep a caption line of a live session (captioners of its studio), timed to the
        picture: now, unless the caller says when."""
        session = await self._session_as(who, session_id, Action.CAPTION)
        assert who is not None  # authorize let it through
        captions.check_live(session)
        line = captions.clean_line(data.text, self.settings.captions.max_chars)
        language = captions.check_language(data.language, self.caption_languages)
        now = self.clock.now()
        start_ms, end_ms = captions.cue_times(now, line, data.start, data.end)
        cue = Cue(
            id=new_id("cap"),
            session_id=session.id,
            language=language,
            text=line,
            start_ms=start_ms,
            end_ms=end_ms,
            author=who.name,
            created_at=now,
            updated_at=now,
        )
        await self.store.add_caption(cue)
        for listener in self._caption_listeners:
            try:
                await listener(cue)
            except Exception:  # the cue is kept all the same; players read it from HLS
                log.exception("caption listener failed for %s", session.id)
        return cue

    async def captions(
        self,
        session_id: str,
        language: str | None = None,
        *,
        from_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[Cue]:
        """A session's cues in time order (anyone who may watch it)."""
        await self.store.get_session(session_id)
        if language is not None:
            captions.check_language(language, self.caption_languages)
        return await self.store.list_captions(
            session_id, language, from_ms=from_ms, until_ms=until_ms
        )

    async def correct_caption(
        self, who: Principal | None, session_id: str, cue_id: str, patch: CaptionPatch
    ) -> Cue:
        """Fix a cue's text or move it in time (captioners and operators of the studio)."""
        await self._session_as(who, session_id, Action.CORRECT_CAPTIONS)
        cue = await self.store.get_caption(session_id, cue_id)
        fixed = captions.corrected(cue, patch, self.settings.captions.max_chars, self.clock.now())
        return await self.store.save_caption(fixed)

    async def shift_captions(
        self, who: Principal | None, session_id: str, language: str, shift_ms: int
    ) -> int:
        """Move every cue of one language by ``shift_ms``; return how many moved."""
        await self._session_as(who, session_id, Action.CORRECT_CAPTIONS)
        captions.check_language(language, self.caption_languages)
        return await self.store.shift_captions(session_id, language, shift_ms, self.clock.now())

    # --- scheduler --------------------------------------------------------------------------

    def _due(self, *sessions: Session) -> list[Decision]:
        """The lifecycle steps due now for ``sessions`` (``schedule.decide``)."""
        grace = timedelta(minutes=self.settings.scheduler.end_grace_minutes)
        return decide(self.clock.now(), sessions, end_grace=grace)

    async def tick(self) -> list[Decision]:
        """Apply every lifecycle step due now; return those applied."""
        applied: list[Decision] = []
        for decision in self._due(*await self.store.active_sessions(self.clock.now())):
            try:
                await self._step(decision.session_id, decision.event)
            except (InvalidTransition, NotFound):
                continue  # another node or an operator moved it first
            log.info("session %s: %s (%s)", decision.session_id, decision.event, decision.reason)
            applied.append(decision)
        return applied

    # --- interpretation ----------------------------------------------------------------------

    @property
    def interpretation_languages(self) -> tuple[str, ...]:
        """The languages interpreters may speak a session in (each an audio rendition)."""
        return tuple(self.settings.interpretation.languages)

    def check_interpret_access(self, who: Principal | None, session: Session) -> None:
        """Raise unless the caller may interpret the session (interpreters of its studio)."""
        authorize(who, Action.INTERPRET, session.studio_id)

    async def session_to_interpret(
        self, who: Principal | None, session_id: str, language: str
    ) -> Session:
        """The live session ``who`` may interpret into ``language`` (interpreters of its
        studio); raise otherwise."""
        session = await self._session_as(who, session_id, Action.INTERPRET)
        interpretation.check_language(language, self.interpretation_languages)
        interpretation.check_live(session)
        return session

    # --- tokens -----------------------------------------------------------------------------

    async def create_token(self, who: Principal | None, data: TokenInput) -> tuple[ApiToken, str]:
        """Issue a bearer token (admin); the secret is returned once and stored hashed."""
        authorize(who, Action.MANAGE_TOKENS)
        return await self.issue_token(data)

    async def issue_token(self, data: TokenInput) -> tuple[ApiToken, str]:
        """Issue a token without an access check (the CLI on the server's own machine)."""
        if data.role is Role.VIEWER:
            raise InvalidInput(
                "role",
                "viewers need no token; "
                "choose admin, operator, moderator, captioner or interpreter",
            )
        if data.role is Role.ADMIN and data.studio_ids:
            raise InvalidInput("studio_ids", "an admin token covers every studio")
        secret = new_secret("tgt")
        token = ApiToken(
            id=new_id("tok"),
            role=data.role,
            name=clean_text("name", data.name),
            studio_ids=tuple(dict.fromkeys(data.studio_ids)),
            created_at=self.clock.now(),
        )
        await self.store.create_token(token, hash_secret(secret))
        return token, secret

    async def list_tokens(self, who: Principal | None) -> list[ApiToken]:
        """Every token record (admin)."""
        authorize(who, Action.MANAGE_TOKENS)
        return await self.store.list_tokens()

    async def revoke_token(self, who: Principal | None, token_id: str) -> None:
        """Revoke a token (admin); it and its browser sign-ins stop working at once."""
        authorize(who, Action.MANAGE_TOKENS)
        await self.store.revoke_token(token_id)
        await self._sign_in_ended(SignInEnded(token_id=token_id))

    async def principal_for_secret(self, secret: str) -> Principal | None:
        """The principal a bearer token stands for, or None."""
        token = await self.store.token_by_hash(hash_secret(secret))
        return None if token is None else principal_of(token)

    # --- browser sign-ins ------------------------------------------------------------------

    async def sign_in(self, secret: str) -> SignIn:
        """Trade a token's secret for a browser sign-in of ``auth.web_session_hours``."""
        token = await self.store.token_by_hash(hash_secret(secret))
        if token is None:
            raise Unauthenticated("the token is not valid (mistyped or revoked)")
        cookie = new_secret("ws")
        lifetime = timedelta(hours=self.settings.auth.web_session_hours)
        await self.store.create_web_session(
            hash_secret(cookie), token.id, self.clock.now() + lifetime
        )
        return SignIn(token, cookie, lifetime)

    async def principal_for_sign_in(self, cookie: str) -> Principal | None:
        """The principal a browser sign-in stands for, or None (unknown, expired, revoked)."""
        signed_in = await self.store.web_session(hash_secret(cookie), self.clock.now())
        return None if signed_in is None else principal_of(signed_in.token)

    async def sign_in_expiry(self, cookie: str) -> datetime | None:
        """When a browser sign-in ends, or None when it already has (unknown, expired)."""
        signed_in = await self.store.web_session(hash_secret(cookie), self.clock.now())
        return None if signed_in is None else signed_in.expires_at

    def may_moderate(self, who: Principal | None, session: Session) -> bool:
        """Whether ``who`` is staff of the session's room (moderates its chat and questions)."""
        try:
            authorize(who, Action.MODERATE, session.studio_id)
        except (Forbidden, Unauthenticated):
            return False
        return True

    async def sign_out(self, cookie: str) -> None:
        """End a browser sign-in; the websockets it opened close too, on every node."""
        web_session_hash = hash_secret(cookie)
        await self.store.delete_web_session(web_session_hash)
        await self._sign_in_ended(SignInEnded(web_session=web_session_hash))

    # --- first start and operations --------------------------------------------------------

    async def signing_key(self) -> bytes:
        """The key every node signs with (the first node to ask makes it)."""
        await self.store.claim("signing_key", secrets.token_hex(32))
        key = await self.store.get_meta("signing_key")
        assert key is not None
        return bytes.fromhex(key)

    async def bootstrap_admin(self) -> str | None:
        """Once per store: issue the first admin token and return its secret (None after)."""
        if not await self.store.claim("admin_bootstrapped", self.clock.now().isoformat()):
            return None
        _, secret = await self.issue_token(TokenInput(role=Role.ADMIN, name="first admin"))
        return secret

    async def load_demo_once(self) -> None:
        """Once per store, when the settings ask and there are no studios yet: import the demo
        programme, moved so that its first session began this hour."""
        if not (
            self.settings.demo.load_on_first_start
            and not await self.store.list_studios()
            and await self.store.claim("demo_loaded", self.clock.now().isoformat())
        ):
            return
        doc = program_io.parse_yaml(DEMO_PROGRAM_FILE.read_text(encoding="utf-8"))
        this_hour = self.clock.now().replace(minute=0, second=0, microsecond=0)
        result = await self._import(program_io.shift_to_start(doc, this_hour))
        log.info("demo programme loaded: %d sessions", result.sessions_created)

    async def check_store(self) -> str:
        """Raise StoreUnavailable unless the store answers; return its kind (``sqlite`` or
        ``postgresql``)."""
        await self.store.ping()
        return self.store.dialect

    # --- programme files --------------------------------------------------------------------

    def check_import_access(self, who: Principal | None) -> None:
        """Raise unless the caller may import a programme (before its file is read)."""
        authorize(who, Action.IMPORT_PROGRAM)

    async def import_program(self, who: Principal | None, doc: ProgramDocument) -> ImportResult:
        """Create or update studios and sessions from a programme file, all or nothing."""
        authorize(who, Action.IMPORT_PROGRAM)
        return await self._import(doc)

    async def _import(self, doc: ProgramDocument) -> ImportResult:
        defaults = ImportDefaults(
            now=self.clock.now(),
            language=self.settings.event.default_language,
            auto_start=self.settings.scheduler.auto_start,
        )
        plan = await self.store.apply_import(
            functools.partial(program_io.plan_import, doc, defaults=defaults)
        )
        return plan.result()

    async def export_program(self, who: Principal | None) -> ProgramDocument:
        """The whole programme as a document (admin)."""
        authorize(who, Action.EXPORT_PROGRAM)
        studios, sessions = await self.store.list_studios(), await self.store.list_sessions()
        return await asyncio.to_thread(  # thousands of sessions: off the event loop
            functools.partial(
                program_io.document_from,
                studios,
                sessions,
                event=self.settings.event.name,
                timezone=self.settings.event.timezone,
            )
        )


def principal_of(token: ApiToken) -> Principal:
    """The principal a stored token stands for."""
    return Principal(
        token_id=token.id, role=token.role, name=token.name, studio_ids=frozenset(token.studio_ids)
    )
