"""The media plane's vocabulary: every enumerated value the streaming modules share."""

from __future__ import annotations

import enum


class InputFormat(enum.StrEnum):
    """Container of the live stream ffmpeg reads on its stdin."""

    MPEGTS = "mpegts"
    FLV = "flv"


class VideoCodec(enum.StrEnum):
    """Video codecs an ingest may deliver (ffprobe's codec names)."""

    H264 = "h264"
    HEVC = "hevc"
    VP8 = "vp8"
    VP9 = "vp9"
    AV1 = "av1"


class AudioCodec(enum.StrEnum):
    """Audio codecs an ingest may deliver (ffprobe's codec names)."""

    AAC = "aac"
    OPUS = "opus"
    MP3 = "mp3"


class MediaKind(enum.StrEnum):
    """What one rendition carries."""

    VIDEO = "video"
    AUDIO = "audio"


class VideoMode(enum.StrEnum):
    """How a video rendition is produced."""

    PASSTHROUGH = "passthrough"
    TRANSCODE = "transcode"


class SlateKind(enum.StrEnum):
    """Which still picture viewers see while the broadcast is not on air."""

    STARTING_SOON = "starting_soon"
    BE_RIGHT_BACK = "be_right_back"
    ENDED = "ended"


class OnAir(enum.StrEnum):
    """What a session's playlists carry now (``streaming.onair.on_air`` decides)."""

    OFF = "off"
    INGEST = "ingest"
    STARTING_SOON = "starting_soon"
    BE_RIGHT_BACK = "be_right_back"
    SILENT = "silent"


class RunKind(enum.StrEnum):
    """What one ffmpeg run of a session wrote (kept in the session's run journal)."""

    INGEST = "ingest"
    STARTING_SOON = "starting_soon"
    BE_RIGHT_BACK = "be_right_back"


class ResourceKind(enum.StrEnum):
    """The kinds of file a session's HLS directory serves."""

    INIT = "init"
    SEGMENT = "segment"
    PART = "part"
    PLAYLIST = "playlist"
    SUBTITLE_PLAYLIST = "subtitle playlist"
    CUES = "cues"


class ReloadDecision(enum.StrEnum):
    """The answer to a blocking playlist reload (``_HLS_msn`` / ``_HLS_part``)."""

    READY = "ready"
    WAIT = "wait"
    BAD_REQUEST = "bad_request"


class RestreamState(enum.StrEnum):
    """Where one restream destination is (``streaming.restream.pusher``)."""

    IDLE = "idle"
    CONNECTING = "connecting"
    LIVE = "live"
    RETRYING = "retrying"
    FAILED = "failed"
    STOPPED = "stopped"


class IngestOrigin(enum.StrEnum):
    """How a publisher reaches the media plane."""

    RTMP = "rtmp"
    WHIP = "whip"
