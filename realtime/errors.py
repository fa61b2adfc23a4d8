"""Errors raised by the realtime package (docs/architecture.md, "Errors" and "Realtime").

Every error the realtime package raises derives from one root::

    RealtimeError
    ├── EngineUnavailable   the engine's back end cannot be reached now (Redis and store
    │                       errors are mapped here where they cross into our code)
    ├── FrameError          a client frame is refused: the error frame's code, message, field
    └── ProtocolViolation   the client broke the websocket framing: close with ``code``

Rules of ``studio.interaction`` refuse with ``studio.errors`` (``InvalidInput``, ``Refused``...);
``realtime.actions.error_frame`` answers both trees.
"""

from __future__ import annotations

from realtime.protocol import ErrorCode


class RealtimeError(Exception):
    """Root of every error the realtime package raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EngineUnavailable(RealtimeError):
    """The engine's back end cannot be reached right now; the client may retry."""


class FrameError(RealtimeError):
    """A refused client frame: the error frame's code, message and field."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.field = code, field


class ProtocolViolation(RealtimeError):
    """The client broke the framing rules: close the connection with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason
