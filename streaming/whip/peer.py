"""What every WHIP resource of a node shares, whoever publishes (``ingest.WhipResource``: a
session's publisher; ``interpreter.VoiceResource``: an interpreter): its peer connection's
lifecycle, its tasks, a close that can be asked for from a callback, and the registry of the
open ones (``PeerRegistry``)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any, Generic, TypeVar

from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from streaming.errors import BadWhipOffer, UnknownWhipResource

log = logging.getLogger(__name__)


def codec_preferences(kind: str) -> list[RTCRtpCodecCapability]:
    """What a WHIP answer takes: Opus audio; H.264, else VP8 video (with RTX)."""
    capabilities = RTCRtpReceiver.getCapabilities(kind)
    assert capabilities is not None
    codecs = capabilities.codecs
    if kind == "audio":
        return [c for c in codecs if c.mimeType.lower() == "audio/opus"]
    order = ("video/h264", "video/vp8", "video/rtx")
    return [c for name in order for c in codecs if c.mimeType.lower() == name]


class PeerResource:
    """One accepted offer: its id and ETag, its peer connection and its tasks. Subclasses
    write ``close`` (which calls ``stop_peer``)."""

    def __init__(
        self, registry: PeerRegistry[Any], session_id: str, pc: RTCPeerConnection, prefix: str
    ) -> None:
        self.registry = registry
        self.id = prefix + secrets.token_urlsafe(16)
        self.etag = f'"{secrets.token_hex(8)}"'
        self.session_id = session_id
        self.pc = pc
        self.closed = False
        self.task_prefix = f"{registry.kind} {session_id}"
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing: asyncio.Task[None] | None = None

    async def close(self, reason: str = "closed") -> None:
        """Stop everything of this resource (idempotent)."""
        raise NotImplementedError

    async def take_offer(self, offer: str) -> None:
        """Set ``offer`` as the remote description (``BadWhipOffer`` when aiortc refuses it)."""
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        except Exception as exc:  # aiortc raises ValueError and its own errors for bad offers
            raise BadWhipOffer(
                f"the offer cannot be negotiated: {exc or type(exc).__name__}"
            ) from None

    def spawn(self, coro: Any, what: str) -> None:
        """Run ``coro`` as one of this resource's tasks (cancelled when it closes)."""
        task = asyncio.create_task(coro, name=f"{self.task_prefix} {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def watch_connection(self) -> None:
        """Close when the connection fails or closes, or has not connected in time."""
        self.pc.on("connectionstatechange", self._on_state)
        self.spawn(self._connect_deadline(), "connect deadline")

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        if state in ("failed", "closed"):
            self.abort(f"peer connection {state}")

    async def _connect_deadline(self) -> None:
        timeout = self.registry.connect_timeout
        await asyncio.sleep(timeout)
        if self.pc.connectionState != "connected":
            self.abort(f"not connected within {timeout:g} s")

    def abort(self, reason: str = "the session ended") -> None:
        """Close this resource soon (from a callback; ``close`` does the work)."""
        if self._closing is None and not self.closed:
            self._closing = asyncio.create_task(
                self.close(reason), name=f"{self.task_prefix} close"
            )
            self.registry.closing.add(self._closing)
            self._closing.add_done_callback(self.registry.closing.discard)

    async def stop_peer(self) -> None:
        """Close the peer connection (bounded) and cancel the tasks but the current one."""
        current = asyncio.current_task()
        try:
            await asyncio.wait_for(self.pc.close(), 10)
        except Exception:  # a peer that cannot close cleanly is dropped all the same
            log.exception("session %s: closing the peer connection failed", self.session_id)
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


R = TypeVar("R", bound=PeerResource)


class PeerRegistry(Generic[R]):
    """The open resources of one kind on this node (``kind`` names their tasks, ``label``
    them in errors)."""

    def __init__(self, kind: str, label: str, connect_timeout: float) -> None:
        self.kind = kind
        self.label = label
        self.connect_timeout = connect_timeout
        self.open: dict[str, R] = {}
        self.closing: set[asyncio.Task[None]] = set()

    def resources(self, session_id: str | None = None) -> list[R]:
        """The open resources (of one session)."""
        return [r for r in self.open.values() if session_id in (None, r.session_id)]

    def find(self, session_id: str, resource_id: str) -> R:
        """The open resource ``resource_id`` of the session, or ``UnknownWhipResource``."""
        resource = self.open.get(resource_id)
        if resource is None or resource.session_id != session_id:
            raise UnknownWhipResource(f"session {session_id} has no {self.label} {resource_id}")
        return resource

    async def close(self) -> None:
        """Close every resource (shutdown), and wait for closes already under way."""
        resources = list(self.open.values())
        await asyncio.gather(*(r.close("shutting down") for r in resources), return_exceptions=True)
        if self.closing:
            await asyncio.gather(*list(self.closing), return_exceptions=True)
