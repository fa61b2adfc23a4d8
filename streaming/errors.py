"""Every error the media plane raises, under one root (no HTTP statuses here: ``web.errors``
maps them to answers; ``docs/architecture.md`` "Errors")::

    StreamingError
    ├── InvalidArgument     a builder got a value it cannot turn into a safe ffmpeg argument
    ├── InvalidName         a resource name does not match the strict pattern (path traversal)
    ├── InvalidMedia        what ffmpeg wrote or a publisher sent cannot be read or used
    ├── PlaylistConflict    a playlist update clashes with its state (out of order, ended)
    ├── BadDirective        an LL-HLS delivery directive the spec says to refuse
    ├── ProtocolError       bytes from an RTMP peer that are not RTMP as we accept it
    ├── FfmpegError         an ffmpeg process could not do its job
    │   ├── FfmpegNotStarted   the program could not be started
    │   ├── FfmpegFailed       it exited with a failure code
    │   └── FfmpegTimedOut     it did not finish in the time allowed
    ├── PipelineError       a session pipeline asked for what its state does not allow
    ├── RecordingFailed     a recording could not be built (the reason is shown to operators)
    ├── RunsUnreachable     another node's runs of a session could not be fetched
    ├── OwnerUnknown        which node holds a session's media cannot be told now (no store)
    ├── NothingToClip       no recorded media on this node to cut the clip asked for
    ├── FeedClosed          a WebRTC viewer's feed was closed (it left, or the session is over)
    ├── IngestDenied        a publish (RTMP or WHIP) the media plane will not take
    │   ├── WrongStreamKey     no key, or one that does not open the session
    │   ├── SessionOver        the session ended or was cancelled
    │   └── PublisherPresent   the session already has a publisher
    ├── BadWhipOffer        a WHIP offer Torget cannot take
    ├── UnknownWhipResource a WHIP resource that does not exist (any more)
    ├── InterpreterBusy     an interpreter already publishes that language for the session
    └── WhepRefused         a WHEP playback request refused
        ├── BadWhepOffer       the body is not an SDP offer we can answer
        ├── UnknownWhepViewer  no WHEP resource of that id in that session
        ├── NotLive            the session has nothing to play now
        └── WhepFull           a viewer cap is reached (``hls``: where to watch instead)
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
    """Media that cannot be parsed or breaks a playlist limit."""


class PlaylistConflict(StreamingError):
    """A playlist update that clashes with what the playlist already holds."""


class BadDirective(StreamingError):
    """A blocking-reload query the spec says to refuse."""


class ProtocolError(StreamingError):
    """Bytes from a peer that are not RTMP as we accept it."""


class FfmpegError(StreamingError):
    """An ffmpeg process could not do its job."""


class FfmpegNotStarted(FfmpegError):
    """The program could not be started (``reason``: what the system said)."""

    def __init__(self, program: str, cause: OSError, what: str = "ffmpeg") -> None:
        super().__init__(f"cannot start {what} ({program}): {cause}")
        self.program = program
        self.reason = cause.strerror or str(cause)


class FfmpegFailed(FfmpegError):
    """ffmpeg exited with a failure code (the message ends with its last output lines)."""

    def __init__(self, code: int | None, output: str) -> None:
        super().__init__(f"ffmpeg failed ({code}): {output}")
        self.code = code


class FfmpegTimedOut(FfmpegError):
    """ffmpeg did not finish in the time allowed (it was killed)."""


class PipelineError(StreamingError):
    """A session pipeline asked for what its state does not allow."""


class RecordingFailed(StreamingError):
    """The recording could not be built (the reason is shown to operators)."""


class RunsUnreachable(StreamingError):
    """The runs another node recorded of a session could not be fetched from it."""


class OwnerUnknown(StreamingError):
    """Which node holds a session's media cannot be told now (the store is unavailable)."""


class NothingToClip(StreamingError):
    """There is no recorded media on this node to cut the clip asked for (yet)."""


class FeedClosed(StreamingError):
    """The viewer's feed was closed (the viewer left, or the session is over)."""

    def __init__(self, message: str = "the viewer's feed is closed") -> None:
        super().__init__(message)


class IngestDenied(StreamingError):
    """A publish the media plane refuses; the message is safe to log and to answer."""


class WrongStreamKey(IngestDenied):
    """No stream key, or one that does not open the session."""


class SessionOver(IngestDenied):
    """The session has ended or was cancelled: nothing more can be published to it."""


class PublisherPresent(IngestDenied):
    """The session already has a publisher (and the request did not take over)."""


class BadWhipOffer(StreamingError):
    """A WHIP offer that is not SDP, or asks for what Torget cannot take."""


class UnknownWhipResource(StreamingError):
    """A WHIP resource id that names no publish of the session (ended, or never was)."""


class InterpreterBusy(StreamingError):
    """An interpreter already publishes that language for the session."""


class WhepRefused(StreamingError):
    """A WHEP playback request refused."""


class BadWhepOffer(WhepRefused):
    """The body is not an SDP offer we can answer."""


class UnknownWhepViewer(WhepRefused):
    """No WHEP resource of that id in that session."""


class NotLive(WhepRefused):
    """The session has nothing to play now."""


class WhepFull(WhepRefused):
    """A viewer cap is reached; ``hls`` is the session's HLS address to watch instead."""

    def __init__(self, message: str, hls: str) -> None:
        super().__init__(message)
        self.hls = hls
