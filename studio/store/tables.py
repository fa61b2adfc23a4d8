"""Table definitions (SQLAlchemy Core), shared by SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

studios = sa.Table(
    "studios",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    # Whether the studio's channel plays earlier sessions' replays between sessions (0002).
    sa.Column("playout", sa.Boolean(), nullable=False, server_default=sa.false()),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("studio_id", sa.String(32), sa.ForeignKey("studios.id"), nullable=False),
    sa.Column("title", sa.String(400), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("speakers", sa.JSON(), nullable=False),
    sa.Column("language", sa.String(40), nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("ends_at", UtcDateTime(), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("auto_start", sa.Boolean(), nullable=False),
    sa.Column("auto_end", sa.Boolean(), nullable=False),
    sa.Column("qa_auto_approve", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("stream_key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("went_live_at", UtcDateTime(), nullable=True),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    sa.Index("ix_sessions_studio_start", "studio_id", "starts_at"),
    sa.Index("ix_sessions_state_start", "state", "starts_at"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("studio_ids", sa.JSON(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column(
        "token_id",
        sa.String(32),
        sa.ForeignKey("api_tokens.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)

room_facts = sa.Table(
    "room_facts",
    metadata,
    sa.Column("room", sa.String(64), primary_key=True),
    sa.Column("ms", sa.BigInteger(), primary_key=True),
    sa.Column("seq", sa.Integer(), primary_key=True),
    sa.Column("data", sa.LargeBinary(), nullable=False),
)

viewer_samples = sa.Table(
    "viewer_samples",
    metadata,
    sa.Column("room", sa.String(64), primary_key=True),
    sa.Column("minute", UtcDateTime(), primary_key=True),
    sa.Column("node", sa.String(32), primary_key=True),
    sa.Column("viewers", sa.Integer(), nullable=False),
    sa.Column("uniques", sa.Integer(), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("room", sa.String(64), nullable=False, index=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=False),
    sa.Column("actor_name", sa.String(200), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("target", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
)

# Restream destinations of a session. ``url`` holds the destination's stream key: it is kept
# because ffmpeg needs it, but never logged and only ever shown masked.
restream_destinations = sa.Table(
    "restream_destinations",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "session_id",
        sa.String(32),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

recordings = sa.Table(
    "recordings",
    metadata,
    sa.Column(
        "session_id",
        sa.String(32),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("duration", sa.Float(), nullable=True),
    sa.Column("trim_start", sa.Float(), nullable=True),
    sa.Column("trim_end", sa.Float(), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # The media ownership epoch (media_owners.epoch) under which the record was last written
    # by the media plane; NULL for records written before epochs existed.
    sa.Column("epoch", sa.Integer(), nullable=True),
)

# Clips of a session for social media (``studio.clips``): one row per clip and aspect, the
# MP4 itself is a file of the node that holds the session's media.
clips = sa.Table(
    "clips",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "session_id",
        sa.String(32),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("aspect", sa.String(8), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("in_seconds", sa.Float(), nullable=False),
    sa.Column("out_seconds", sa.Float(), nullable=False),
    sa.Column("duration", sa.Float(), nullable=True),
    sa.Column("width", sa.Integer(), nullable=True),
    sa.Column("height", sa.Integer(), nullable=True),
    sa.Column("size_bytes", sa.BigInteger(), nullable=True),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # The caption language burned into the picture (NULL: none).
    sa.Column("captions", sa.String(35), nullable=True),
)

# The node that holds a session's media (streaming.ownership): written when a publish is
# accepted, confirmed every few seconds by that node while it runs. ``epoch`` is the fencing
# token: each claim of the session's media takes the next one (media_claims keeps them all).
media_owners = sa.Table(
    "media_owners",
    metadata,
    sa.Column(
        "session_id",
        sa.String(32),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("node_url", sa.String(300), nullable=False, index=True),
    sa.Column("node_id", sa.String(64), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("epoch", sa.Integer(), nullable=False, server_default="0"),
)

# Every claim of a session's media, one row per epoch: which node held the media from when.
# The final owner assembles the recording from the runs of every node named here.
media_claims = sa.Table(
    "media_claims",
    metadata,
    sa.Column(
        "session_id",
        sa.String(32),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("epoch", sa.Integer(), primary_key=True),
    sa.Column("node_url", sa.String(300), nullable=False),
    sa.Column("node_id", sa.String(64), nullable=False),
    sa.Column("claimed_at", UtcDateTime(), nullable=False),
)

# Caption lines of a session (studio.captions.cues): times are program date times in ms.
captions = sa.Table(
    "captions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "session_id",
        sa.String(32),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("language", sa.String(35), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("start_ms", sa.BigInteger(), nullable=False),
    sa.Column("end_ms", sa.BigInteger(), nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Index("ix_captions_session_start", "session_id", "language", "start_ms"),
)

# The short numeric codes that open a studio's participation page from the hall (0002): one
# valid code per studio at a time; a replaced code expires at once, any code at ``expires_at``.
join_codes = sa.Table(
    "join_codes",
    metadata,
    sa.Column("code", sa.String(12), primary_key=True),
    sa.Column(
        "studio_id",
        sa.String(32),
        sa.ForeignKey("studios.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)
