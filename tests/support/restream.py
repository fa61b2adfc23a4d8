"""Inputs shared by the restream tests: destination URLs, a source and a session."""

from __future__ import annotations

from datetime import UTC, datetime

from streaming.ladder import SourceInfo
from streaming.vocab import VideoCodec
from studio.models import Session
from studio.states import SessionState

YOUTUBE = "rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl-mnop"
FACEBOOK = "rtmps://live-api-s.facebook.com:443/rtmp/FB-1234567890-0-AbCdEfGh?s_bl=1&s_ps=1"
SOURCE = SourceInfo(640, 360, 30.0, VideoCodec.H264, has_audio=True, keyframe_interval=1.0)


def restreamed_session(state: SessionState) -> Session:
    """The session ``ses_x`` in ``state``."""
    now = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)
    return Session(
        id="ses_x", studio_id="std_x", title="T", description="", speakers=(), language="sv",
        starts_at=now, ends_at=now, state=state, auto_start=False, auto_end=False,
        created_at=now, updated_at=now,
    )  # fmt: skip
