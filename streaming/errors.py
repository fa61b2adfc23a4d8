"""Errors raised by the media plane.

Every error the streaming package raises derives from one root::

    StreamingError
    ├── InvalidArgument   a builder got a value it cannot turn into a safe ffmpeg argument
    ├── InvalidName       a resource name does not match the strict pattern (path traversal, junk)
    ├── InvalidMedia      what ffmpeg wrote cannot be read or does not fit the playlist's limits
    ├── PlaylistConflict  a playlist update clashes with its state (out of order, already ended)
    ├── BadDirective      an LL-HLS delivery directive the spec says to refuse (HTTP 400)
    ├── BadOffer          a WHIP offer Torget cannot take (HTTP 400)
    ├── UnknownResource   a WHIP resource that does not exist (any more) (HTTP 404)
    └── IngestDenied      a publish the media plane will not take
        ├── WrongStreamKey     the key does not open this session (HTTP 401)
        ├── SessionOver        the session ended or was cancelled (HTTP 409)
        └── PublisherPresent   the session already has a publisher (HTTP 409)
"""

from __future__ import annotations


class StreamingError(Exception):
    """Root of every error the media plane raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(StreamingError):
    """A builder input that cannot become a safe ffmpeg argument."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidName(StreamingError):
    """A media resource name outside the strict naming pattern."""

    def __init__(self, name: str) -> None:
        super().__init__(f"not a media resource name: {name!r}")
        self.name = name


class InvalidMedia(StreamingError):
    """Media output that cannot be parsed or breaks a playlist limit."""


class PlaylistConflict(StreamingError):
    """A playlist update that clashes with what the playlist already holds."""


class BadDirective(StreamingError):
    """A blocking-reload query the server must answer with 400 Bad Request."""


class BadOffer(StreamingError):
    """A WHIP offer that is not SDP, or asks for what Torget cannot take."""


class UnknownResource(StreamingError):
    """A WHIP resource id that names no publish of the session (ended, or never was)."""


class IngestDenied(StreamingError):
    """A publish the media plane refuses; the message is safe to log and to answer."""


class WrongStreamKey(IngestDenied):
    """No stream key, or one that does not open the session."""


class SessionOver(IngestDenied):
    """The session has ended or was cancelled: nothing more can be published to it."""


class PublisherPresent(IngestDenied):
    """The session already has a publisher (and the request did not take over)."""
