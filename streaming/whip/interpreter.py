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

import av
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streaming.interpretation import CHANNELS, SAMPLE_RATE, InterpretationDesk, InterpreterFeed
from streaming.webrtc_media import check_voice_offer
from streaming.whip.ingest import WhipAnswer
from streaming.whip.peer import PeerRegistry, PeerResource, codec_preferences

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


class VoiceResource(PeerResource):
    """One interpreter's accepted offer: its peer connection, its feed and its tasks."""

    def __init__(
        self, ingest: InterpreterIngest, feed: InterpreterFeed, pc: RTCPeerConnection
    ) -> None:
        super().__init__(ingest.registry, feed.session_id, pc, "wi_")
        self.feed = feed
        self.language = feed.language

    async def negotiate(self, offer: str) -> str:
        """Answer ``offer`` (candidates gathered): we receive Opus, send nothing."""
        pc = self.pc
        audio = pc.addTransceiver("audio", direction="recvonly")
        audio.setCodecPreferences(codec_preferences("audio"))
        pc.on("track", self._on_track)
        await self.take_offer(offer)
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if not self.closed and track.kind == "audio":
            self.spawn(self._voice(track), "voice")

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

    async def close(self, reason: str = "closed") -> None:
        """Close the feed (the language falls back to the original), the peer connection and
        the tasks (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.feed.close()
        self.registry.open.pop(self.id, None)
        log.info(
            "session %s: interpreter %s (%s) ends: %s",
            self.session_id,
            self.id,
            self.language,
            reason,
        )
        await self.stop_peer()


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
        self.ice_servers = ice_servers
        self.registry: PeerRegistry[VoiceResource] = PeerRegistry(
            "interpreter", "interpreter publish", connect_timeout
        )

    def resources(self, session_id: str | None = None) -> list[VoiceResource]:
        """The open interpreter publishes (of one session)."""
        return self.registry.resources(session_id)

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
        self.registry.open[resource.id] = resource
        resource.watch_connection()
        log.info("session %s: interpreter %s (%s) from %s", session_id, resource.id, language, peer)
        return WhipAnswer(resource.id, sdp, resource.etag)

    async def delete(self, session_id: str, resource_id: str) -> None:
        """End the interpreter publish ``resource_id`` (the interpreter's DELETE)."""
        await self.registry.find(session_id, resource_id).close("the interpreter stopped")

    async def close_session(self, session_id: str) -> None:
        """Drop every interpreter of the session (it is over)."""
        resources = self.resources(session_id)
        await asyncio.gather(*(r.close("the session ended") for r in resources))
        self.desk.close_session(session_id)

    async def close(self) -> None:
        """Close every interpreter publish (shutdown), and wait for closes already under way."""
        await self.registry.close()
