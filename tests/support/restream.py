"""Inputs shared by the restream tests: destination URLs and a source."""

from __future__ import annotations

from streaming.ladder import SourceInfo
from streaming.vocab import VideoCodec

YOUTUBE = "rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl-mnop"
FACEBOOK = "rtmps://live-api-s.facebook.com:443/rtmp/FB-1234567890-0-AbCdEfGh?s_bl=1&s_ps=1"
SOURCE = SourceInfo(640, 360, 30.0, VideoCodec.H264, has_audio=True, keyframe_interval=1.0)
