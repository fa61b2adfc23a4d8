"""What the API answers with: response structs built from programme records. Pure."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import msgspec

from config import Settings
from studio.clips import ClipAspect, ClipRecord, ClipState
from studio.models import ApiToken, Session, Studio
from studio.program_io import ImportResult
from studio.roles import Role
from studio.states import RecordingState, SessionState
from studio.store import RecordingRecord


class ChannelUrls(msgspec.Struct, kw_only=True):
    """Where a studio's permanent channel is: the same addresses for every session."""

    page: str
    embed: str
    hls: str
    screen: str


class ViewerUrls(msgspec.Struct, kw_only=True):
    """Where viewers watch and take part."""

    page: str
    embed: str
    hls: str
    whep: str
    websocket: str
    calendar: str


class ReplayUrls(msgspec.Struct, kw_only=True):
    """Where the replay of a broadcast is: HLS VOD (same address as live) and an MP4 download."""

    hls: str
    mp4: str


class RecordingView(msgspec.Struct, kw_only=True):
    """A session's recording: its state (``failed`` with the reason), length and trim."""

    session_id: str
    state: RecordingState
    message: str
    duration_seconds: float | None
    start_seconds: float
    end_seconds: float | None
    updated_at: datetime | None
    replay: ReplayUrls | None


class ClipView(msgspec.Struct, kw_only=True):
    """A clip of a session in one aspect: being cut, ready (with its MP4) or failed (why).

    ``in_seconds``/``out_seconds`` are on the replay as it plays (a clip made while live: on
    the recording so far); ``captions`` is the caption language burned into its picture (null:
    none, also when the language had no line within the clip)."""

    id: str
    session_id: str
    aspect: ClipAspect
    state: ClipState
    message: str
    in_seconds: float
    out_seconds: float
    duration_seconds: float | None
    width: int | None
    height: int | None
    size_bytes: int | None
    created_by: str
    created_at: datetime
    mp4: str | None
    captions: str | None


class IngestUrls(msgspec.Struct, kw_only=True):
    """Where an operator sends the picture (the stream key is shown only when issued)."""

    rtmp: str
    whip: str


class StudioView(msgspec.Struct, kw_only=True):
    """A studio."""

    id: str
    name: str
    created_at: datetime
    calendar: str
    playout: bool = False
    channel: ChannelUrls | None = None


class SessionView(msgspec.Struct, kw_only=True):
    """A session as anyone may see it."""

    id: str
    studio_id: str
    studio_name: str
    title: str
    description: str
    speakers: list[str]
    language: str
    starts_at: datetime
    ends_at: datetime
    state: SessionState
    auto_start: bool
    auto_end: bool
    qa_auto_approve: bool
    went_live_at: datetime | None
    ended_at: datetime | None
    urls: ViewerUrls
    replay: ReplayUrls | None = None


class SessionCreated(SessionView, kw_only=True):
    """A new session with its stream key, shown this once."""

    stream_key: str
    ingest: IngestUrls


class StreamKeyView(msgspec.Struct, kw_only=True):
    """A freshly issued stream key and where to use it."""

    session_id: str
    stream_key: str
    ingest: IngestUrls


class ProgramView(msgspec.Struct, kw_only=True):
    """The public programme."""

    event: str
    timezone: str
    studios: list[StudioView]
    sessions: list[SessionView]


class TokenView(msgspec.Struct, kw_only=True):
    """An access token's record (never its secret)."""

    id: str
    role: Role
    name: str
    studio_ids: list[str]
    created_at: datetime


class TokenCreated(TokenView, kw_only=True):
    """A new token with its secret, shown this once."""

    token: str


class ImportView(msgspec.Struct, kw_only=True):
    """What a programme import changed."""

    studios_created: int
    sessions_created: int
    sessions_updated: int


class Urls:
    """Builds the public addresses of sessions and studios from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.base = settings.public_url
        parts = urlsplit(self.base)
        self._ws_base = ("wss://" if parts.scheme == "https" else "ws://") + parts.netloc
        self._rtmp = (
            settings.server.rtmp_url.rstrip("/")
            or f"rtmp://{parts.hostname}:{settings.media.rtmp_port}/live"
        )

    def viewer(self, session_id: str) -> ViewerUrls:
        """Where viewers find a session."""
        return ViewerUrls(
            page=f"{self.base}/s/{session_id}",
            embed=f"{self.base}/embed/{session_id}",
            hls=f"{self.base}/hls/{session_id}/index.m3u8",
            whep=f"{self.base}/whep/{session_id}",
            websocket=f"{self._ws_base}/ws",
            calendar=f"{self.base}/api/v1/program.ics",
        )

    def replay(self, session_id: str) -> ReplayUrls:
        """Where a session's replay is (the HLS address is the live one)."""
        return ReplayUrls(
            hls=f"{self.base}/hls/{session_id}/index.m3u8",
            mp4=f"{self.base}/api/v1/sessions/{session_id}/recording.mp4",
        )

    def clip(self, session_id: str, clip_id: str) -> str:
        """Where a clip's MP4 is downloaded."""
        return f"{self.base}/api/v1/sessions/{session_id}/clips/{clip_id}.mp4"

    def ingest(self, session_id: str) -> IngestUrls:
        """Where an operator publishes a session (append the stream key to the RTMP URL)."""
        return IngestUrls(rtmp=f"{self._rtmp}/", whip=f"{self.base}/whip/{session_id}")

    def channel(self, studio_id: str) -> ChannelUrls:
        """Where a studio's channel and hall screen are."""
        return ChannelUrls(
            page=f"{self.base}/c/{studio_id}",
            embed=f"{self.base}/embed/c/{studio_id}",
            hls=f"{self.base}/hls/c/{studio_id}/index.m3u8",
            screen=f"{self.base}/screen/{studio_id}",
        )

    def join(self, code: str) -> str:
        """The short address a join code opens (the hall's phones)."""
        return f"{self.base}/j/{code}"

    def studio_calendar(self, studio_id: str) -> str:
        """The iCalendar feed of one studio."""
        return f"{self.base}/api/v1/studios/{studio_id}/program.ics"


def studio_view(studio: Studio, urls: Urls) -> StudioView:
    """Present a studio."""
    return StudioView(
        id=studio.id,
        name=studio.name,
        created_at=studio.created_at,
        calendar=urls.studio_calendar(studio.id),
        playout=studio.playout,
        channel=urls.channel(studio.id),
    )


def session_view(session: Session, studio_name: str, urls: Urls) -> SessionView:
    """Present a session."""
    return SessionView(
        id=session.id,
        studio_id=session.studio_id,
        studio_name=studio_name,
        title=session.title,
        description=session.description,
        speakers=list(session.speakers),
        language=session.language,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        state=session.state,
        auto_start=session.auto_start,
        auto_end=session.auto_end,
        qa_auto_approve=session.qa_auto_approve,
        went_live_at=session.went_live_at,
        ended_at=session.ended_at,
        urls=urls.viewer(session.id),
        replay=urls.replay(session.id) if session.state is SessionState.REPLAY else None,
    )


def recording_view(session: Session, record: RecordingRecord | None, urls: Urls) -> RecordingView:
    """Present a session's recording (``none`` until the broadcast has ended)."""
    published = session.state is SessionState.REPLAY
    if record is None:
        return RecordingView(
            session_id=session.id,
            state=RecordingState.NONE,
            message="",
            duration_seconds=None,
            start_seconds=0.0,
            end_seconds=None,
            updated_at=None,
            replay=None,
        )
    return RecordingView(
        session_id=session.id,
        state=record.state,
        message=record.message,
        duration_seconds=record.duration,
        start_seconds=record.trim_start or 0.0,
        end_seconds=record.trim_end,
        updated_at=record.updated_at,
        replay=urls.replay(session.id) if published else None,
    )


def session_created(session: Session, studio_name: str, key: str, urls: Urls) -> SessionCreated:
    """Present a new session with its one-time stream key."""
    base = msgspec.structs.asdict(session_view(session, studio_name, urls))
    return SessionCreated(**base, stream_key=key, ingest=urls.ingest(session.id))


def token_view(token: ApiToken) -> TokenView:
    """Present a token record."""
    return TokenView(
        id=token.id,
        role=token.role,
        name=token.name,
        studio_ids=list(token.studio_ids),
        created_at=token.created_at,
    )


def token_created(token: ApiToken, secret: str) -> TokenCreated:
    """Present a new token with its one-time secret."""
    return TokenCreated(**msgspec.structs.asdict(token_view(token)), token=secret)


def import_view(result: ImportResult) -> ImportView:
    """Present an import's outcome."""
    return ImportView(
        studios_created=result.studios_created,
        sessions_created=result.sessions_created,
        sessions_updated=result.sessions_updated,
    )


def clip_view(record: ClipRecord, urls: Urls) -> ClipView:
    """Present a clip (its download address once it is ready)."""
    ready = record.state is ClipState.READY
    return ClipView(
        id=record.id,
        session_id=record.session_id,
        aspect=record.aspect,
        state=record.state,
        message=record.message,
        in_seconds=record.in_seconds,
        out_seconds=record.out_seconds,
        duration_seconds=record.duration,
        width=record.width,
        height=record.height,
        size_bytes=record.size_bytes,
        created_by=record.created_by,
        created_at=record.created_at,
        mp4=urls.clip(record.session_id, record.id) if ready else None,
        captions=record.captions,
    )
