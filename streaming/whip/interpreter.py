"""Interpreters' voices over WebRTC (WHIP, sound only): ``InterpreterIngest`` and one
``VoiceResource`` per accepted offer.

The offer must send one Opus audio section and nothing else (``webrtc_media.check_voice_offer``:
video is refused). The desk (``streaming.interpretation``) opens the interpreter's feed first, so
a second interpreter of the same language is refused before any negotiation. aiortc's own Opus
decoder gives audio frames; each becomes packed s16le 48 kHz stereo, pushed to the feed, which
the session pipeline reads. When the connection fails or closes, the track ends or the
interpreter DELETEs the resource, the feed closes: the language falls back to the original sound.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import av
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streaming.errors import BadWhipOffer, UnknownWhipResource
from streaming.interpretation import CHANNELS, SAMPLE_RATE, InterpretationDesk, InterpreterFeed
from streaming.webrtc_media import check_voice_offer
from streaming.whip.ingest import WhipAnswer

log = logging.getLogger(__name__)

LAYOUT = "stereo"


class PcmConverter:
    """Audio frames of any format to packed s16le, 48 kHz, stereo bytes (resampled only when a
    frame is not that already)."""

    def __init__(self) -> None:
        self._resampler: av.AudioResampler | None = None

    def convert(self, frame: av.AudioFrame) -> bytes:
        """The frame's samples as s16le 48 kHz stereo."""
        ready = (
            frame.format.name == "s16"
            and frame.sample_rate == SAMPLE_RATE
            and frame.layout.name == LAYOUT
        )
        if ready:
            return bytes(frame.planes[0])[: frame.samples * 2 * CHANNELS]
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="s16", layout=LAYOUT, rate=SAMPLE_RATE)
        out = self._resampler.resample(frame)
        return b"".join(bytes(f.planes[0])[: f.samples * 2 * CHANNELS] for f in out)


class VoiceResource:
    """One interpreter's accepted offer: its peer connection, its feed and its tasks."""

    def __init__(
        self, ingest: InterpreterIngest, feed: InterpreterFeed, pc: RTCPeerConnection
    ) -> None:
        self.ingest = ingest
        self.id = "wi_" + secrets.token_urlsafe(16)
        self.etag = f'"{secrets.token_hex(8)}"'
        self.feed = feed
        self.session_id = feed.session_id
        self.language = feed.language
        self.pc = pc
        self.closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing: asyncio.Task[None] | None = None

    async def negotiate(self, offer: str) -> str:
        """Answer ``offer`` (candidates gathered): we receive Opus, send nothing."""
        pc = self.pc
        audio = pc.addTransceiver("audio", direction="recvonly")
        capabilities = RTCRtpReceiver.getCapabilities("audio")
        assert capabilities is not None
        audio.setCodecPreferences(
            [c for c in capabilities.codecs if c.mimeType.lower() == "audio/opus"]
        )
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._on_state)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        except Exception as exc:  # aiortc raises ValueError and its own errors for bad offers
            raise BadWhipOffer(
                f"the offer cannot be negotiated: {exc or type(exc).__name__}"
            ) from None
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    def start(self) -> None:
        """Watch the connection: not connected in time means gone."""
        self._spawn(self._connect_deadline(), "connect deadline")

    def _spawn(self, coro: Any, what: str) -> None:
        task = asyncio.create_task(coro, name=f"interpreter {self.session_id} {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if not self.closed and track.kind == "audio":
            self._spawn(self._voice(track), "voice")

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        if state in ("failed", "closed"):
            self.abort(f"peer connection {state}")

    async def _voice(self, track: MediaStreamTrack) -> None:
        converter = PcmConverter()
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.AudioFrame):
                    self.feed.push(converter.convert(frame))
        except MediaStreamError:
            pass
        if not self.closed:
            self.abort("the voice track ended")

    async def _connect_deadline(self) -> None:
        await asyncio.sleep(self.ingest.connect_timeout)
        if self.pc.connectionState != "connected":
            self.abort(f"not connected within {self.ingest.connect_timeout:g} s")

    def abort(self, reason: str) -> None:
        """Close this publish soon (from a callback; ``close`` does the work)."""
        if self._closing is None and not self.closed:
            self._closing = asyncio.create_task(
                self.close(reason), name=f"interpreter {self.session_id} close"
            )
            self.ingest._closing.add(self._closing)
            self._closing.add_done_callback(self.ingest._closing.discard)

    async def close(self, reason: str = "closed") -> None:
        """Close the feed (the language falls back to the original), the peer connection and
        the tasks (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.feed.close()
        self.ingest._resources.pop(self.id, None)
        log.info(
            "session %s: interpreter %s (%s) ends: %s",
            self.session_id,
            self.id,
            self.language,
            reason,
        )
        current = asyncio.current_task()
        try:
            await asyncio.wait_for(self.pc.close(), 10)
        except Exception:  # a peer that cannot close cleanly is dropped all the same
            log.exception("session %s: closing an interpreter's connection failed", self.session_id)
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class InterpreterIngest:
    """The interpreters' WebRTC publishes of one media plane (see the module docstring)."""

    def __init__(
        self,
        desk: InterpretationDesk,
        *,
        connect_timeout: float = 10.0,
        ice_servers: tuple[str, ...] = (),
    ) -> None:
        self.desk = desk
        self.connect_timeout = connect_timeout
        self.ice_servers = ice_servers
        self._resources: dict[str, VoiceResource] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def resources(self, session_id: str | None = None) -> list[VoiceResource]:
        """The open interpreter publishes (of one session)."""
        return [r for r in self._resources.values() if session_id in (None, r.session_id)]

    async def publish(self, session_id: str, language: str, offer: str, *, peer: str) -> WhipAnswer:
        """Accept an interpreter's ``offer`` for the language of the session, or raise
        ``BadWhipOffer`` / ``InterpreterBusy`` (the caller checked who may and the language)."""
        check_voice_offer(offer)
        feed = self.desk.open(session_id, language)
        servers = [RTCIceServer(urls=url) for url in self.ice_servers]
        resource = VoiceResource(self, feed, RTCPeerConnection(RTCConfiguration(servers)))
        try:
            sdp = await resource.negotiate(offer)
        except BaseException:
            await asyncio.shield(resource.close("the offer was not negotiated"))
            raise
        self._resources[resource.id] = resource
        resource.start()
        log.info("session %s: interpreter %s (%s) from %s", session_id, resource.id, language, peer)
        return WhipAnswer(resource.id, sdp, resource.etag)

    def find(self, session_id: str, resource_id: str) -> VoiceResource:
        """The interpreter publish ``resource_id`` of the session, or ``UnknownWhipResource``."""
        resource = self._resources.get(resource_id)
        if resource is None or resource.session_id != session_id:
            raise UnknownWhipResource(
                f"session {session_id} has no interpreter publish {resource_id}"
            )
        return resource

    async def delete(self, session_id: str, resource_id: str) -> None:
        """End the interpreter publish ``resource_id`` (the interpreter's DELETE)."""
        await self.find(session_id, resource_id).close("the interpreter stopped")

    async def close_session(self, session_id: str) -> None:
        """Drop every interpreter of the session (it is over)."""
        resources = self.resources(session_id)
        await asyncio.gather(*(r.close("the session ended") for r in resources))
        self.desk.close_session(session_id)

    async def close(self) -> None:
        """Close every interpreter publish (shutdown), and wait for closes already under way."""
        resources = list(self._resources.values())
        await asyncio.gather(*(r.close("shutting down") for r in resources), return_exceptions=True)
        if self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)
