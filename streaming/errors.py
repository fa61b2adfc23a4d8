"""Errors raised by the media plane.

Every error the streaming package raises derives from one root::

    StreamingError
    ├── InvalidArgument   a builder got a value it cannot turn into a safe ffmpeg argument
    ├── InvalidName       a resource name does not match the strict pattern (path traversal, junk)
    ├── InvalidMedia      what ffmpeg wrote cannot be read or does not fit the playlist's limits
    ├── PlaylistConflict  a playlist update clashes with its state (out of order, already ended)
    └── BadDirective      an LL-HLS delivery directive the spec says to refuse (HTTP 400)
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
