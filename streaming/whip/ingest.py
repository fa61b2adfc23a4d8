"""The WHIP publishes of one node: ``WhipIngest`` and one ``WhipResource`` per accepted offer.

The key is checked first, then the offer (``webrtc_media.check_offer``), then the plane opens a
publish (``WhipPlane.open_session_publish``). Each resource has its own ``RTCPeerConnection``;
its units go to the session's relay and, as FLV tags through one queue, to the publish (so the
pipeline cannot tell the ingests apart). ``docs/architecture.md`` tells the whole story.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streaming.errors import StreamingError
from streaming.flv import FlvTag
from streaming.relay import AUDIO_CLOCK, VIDEO_CLOCK, RelayHub
from streaming.vocab import IngestOrigin
from streaming.webrtc_media import (
    FlvVideoMuxer,
    aac_config_tag,
    aac_frame_tag,
    add_bitrate_hints,
    audio_specific_config,
    check_offer,
    rtp_to_ms,
)
from streaming.whip.decoders import (
    DECODER_ATTR,
    H264PassThrough,
    KeyframeFlag,
    OpusToAac,
    ReceivedAudio,
    ReceivedVideo,
    Vp8ToH264,
    install_decoders,
)
from streaming.whip.peer import PeerRegistry, PeerResource, codec_preferences
from streaming.whip.rhythm import KeyframeRhythm

log = logging.getLogger(__name__)

START_KBPS, MIN_KBPS, MAX_KBPS = 2_500, 600, 6_000
FEED_QUEUE = 2_000


class WhipPublish(Protocol):
    """The publish a WHIP resource feeds (``plane.Publish``)."""

    def set_abort(self, abort: Callable[[], None]) -> None:
        """Give the publish a way to drop this resource."""

    async def tag(self, tag: FlvTag) -> None:
        """One FLV tag of the publisher's media."""

    async def close(self) -> None:
        """The publisher is gone."""


class WhipPlane(Protocol):
    """What the WHIP ingest asks of the media plane (``plane.MediaPlane``)."""

    relays: RelayHub

    async def check_stream_key(self, session_id: str, key: str) -> object:
        """Return when ``key`` opens the session, else raise ``WrongStreamKey``."""

    async def open_session_publish(
        self,
        session_id: str,
        key: str,
        peer: str,
        *,
        takeover: bool = False,
        origin: IngestOrigin = IngestOrigin.WHIP,
    ) -> WhipPublish:
        """Accept a publish of the session, or raise ``IngestDenied``."""


@dataclass(frozen=True)
class WhipAnswer:
    """What the HTTP side answers an accepted offer with."""

    resource_id: str
    sdp: str
    etag: str


class WhipResource(PeerResource):
    """One accepted WHIP offer: its peer connection, its publish and its tasks."""

    def __init__(
        self,
        ingest: WhipIngest,
        session_id: str,
        publish: WhipPublish,
        pc: RTCPeerConnection,
    ) -> None:
        super().__init__(ingest.registry, session_id, pc, "wr_")
        self.ingest = ingest
        self.publish = publish
        self.relay = ingest.plane.relays.relay(session_id)
        self.video_receiver: RTCRtpReceiver | None = None
        self._tags: asyncio.Queue[FlvTag | None] = asyncio.Queue(FEED_QUEUE)
        self._pli = asyncio.Event()
        self._rhythm = KeyframeRhythm(ingest.segment_seconds)
        self._wanted = KeyframeFlag()
        self._t0: float | None = None
        self._dropped = 0
        self._feeder: asyncio.Task[None] | None = None

    # --- set-up

    async def negotiate(self, offer: str, *, has_audio: bool) -> str:
        """Answer ``offer`` (candidates gathered, bit rate hints added)."""
        pc = self.pc
        video = pc.addTransceiver("video", direction="recvonly")
        video.setCodecPreferences(codec_preferences("video"))
        audio = None
        if has_audio:
            audio = pc.addTransceiver("audio", direction="recvonly")
            audio.setCodecPreferences(codec_preferences("audio"))
        pc.on("track", self._on_track)
        await self.take_offer(offer)
        segment = self.ingest.segment_seconds
        preset = self.ingest.preset
        wanted = self._wanted
        for codec in video._codecs:
            mime = codec.mimeType.lower()
            if mime == "video/h264":
                setattr(codec, DECODER_ATTR, H264PassThrough)
            elif mime == "video/vp8":
                setattr(codec, DECODER_ATTR, lambda: Vp8ToH264(segment, preset, wanted))
        if audio is not None:
            for codec in audio._codecs:
                if codec.mimeType.lower() == "audio/opus":
                    setattr(codec, DECODER_ATTR, OpusToAac)
        self.video_receiver = video.receiver
        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)
        local = pc.localDescription
        return add_bitrate_hints(
            local.sdp, start_kbps=START_KBPS, min_kbps=MIN_KBPS, max_kbps=MAX_KBPS
        )

    def start(self) -> None:
        """Begin feeding, asking for keyframes and watching the connection."""
        self.relay.native_source = True
        self.relay.set_keyframe_requester(self.request_keyframe)
        self.publish.set_abort(self.abort)
        self._feeder = asyncio.create_task(self._feed(), name=f"whip {self.session_id} feed")
        self.spawn(self._keyframes(), "keyframes")
        self.watch_connection()

    # --- events

    def _on_track(self, track: MediaStreamTrack) -> None:
        if self.closed:
            return
        if track.kind == "video":
            self.spawn(self._video(track), "video")
        elif track.kind == "audio":
            self.spawn(self._audio(track), "audio")

    def request_keyframe(self) -> None:
        """Ask the publisher (H.264: a PLI) or our VP8 transcoder for a keyframe now."""
        self._wanted.set()
        self._pli.set()

    # --- media

    def _offset_ms(self) -> int:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        return round((now - self._t0) * 1000)

    def _queue(self, tag: FlvTag) -> None:
        try:
            self._tags.put_nowait(tag)
        except asyncio.QueueFull:
            self._dropped += 1
            if self._dropped == 1:
                log.warning(
                    "session %s: the pipeline falls behind; dropping media", self.session_id
                )

    async def _video(self, track: MediaStreamTrack) -> None:
        muxer = FlvVideoMuxer()
        offset: int | None = None
        try:
            while True:
                unit = cast(Any, await track.recv())
                if not isinstance(unit, ReceivedVideo):
                    continue  # a decoded frame: this codec is not one we negotiated
                if offset is None:
                    offset = self._offset_ms()
                timestamp = rtp_to_ms(offset, unit.pts, VIDEO_CLOCK)
                access, tags = muxer.push(unit.data, timestamp)
                if access.keyframe:
                    self._rhythm.keyframe(
                        timestamp / 1000, time.monotonic(), new_run=access.parameter_sets_changed
                    )
                if access.nals:
                    self.relay.publish_video(
                        muxer.track.for_relay(access), offset * 90 + unit.pts, access.keyframe
                    )
                for tag in tags:
                    self._queue(tag)
        except MediaStreamError:
            pass
        if not self.closed:
            self.abort("the video track ended")

    async def _audio(self, track: MediaStreamTrack) -> None:
        offset: int | None = None
        configured = False
        try:
            while True:
                unit = cast(Any, await track.recv())
                if not isinstance(unit, ReceivedAudio):
                    continue
                if offset is None:
                    offset = self._offset_ms()
                self.relay.publish_audio(unit.opus, offset * 48 + unit.pts)
                for frame, pts in unit.aac:
                    # The encoder starts 1024 samples early (priming): shift, keep it monotonic.
                    timestamp = rtp_to_ms(offset, max(pts + 1024, 0), AUDIO_CLOCK)
                    if not configured:
                        configured = True
                        self._queue(aac_config_tag(audio_specific_config(AUDIO_CLOCK, 2), 0))
                    self._queue(aac_frame_tag(frame, timestamp))
        except MediaStreamError:
            pass

    async def _feed(self) -> None:
        """Hand the tags to the publish one at a time (it probes, then feeds ffmpeg)."""
        while True:
            tag = await self._tags.get()
            if tag is None:
                return
            try:
                await self.publish.tag(tag)
            except StreamingError as exc:
                log.warning("session %s: WHIP media refused: %s", self.session_id, exc.message)
                self.abort(exc.message)
                return
            except Exception:
                log.exception("session %s: feeding the WHIP media failed", self.session_id)
                self.abort("feeding the media failed")
                return

    async def _keyframes(self) -> None:
        """A PLI when the segment's time is up (``rhythm.KeyframeRhythm``), and whenever a
        keyframe is asked for."""
        while True:
            wait = self._rhythm.due_at() - time.monotonic()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._pli.wait(), wait)
            asked = self._pli.is_set()
            self._pli.clear()
            if not asked and self._rhythm.due_at() > time.monotonic():
                continue  # a keyframe came meanwhile: the next one is due later
            receiver = self.video_receiver
            if receiver is None or self.pc.connectionState != "connected":
                await asyncio.sleep(self._rhythm.retry)
                continue
            self._rhythm.asked(time.monotonic())
            for source in receiver.getSynchronizationSources():
                await receiver._send_rtcp_pli(source.source)

    # --- the end

    async def close(self, reason: str = "closed") -> None:
        """Stop the peer connection, the tasks and the publish (idempotent)."""
        if self.closed:
            return
        self.closed = True
        log.info("session %s: WHIP publish %s ends: %s", self.session_id, self.id, reason)
        self.registry.open.pop(self.id, None)
        # A takeover's new publisher may own the relay already: leave it alone then.
        owns_relay = not self.ingest.resources(self.session_id)
        if owns_relay:
            self.relay.set_keyframe_requester(None)
            self.relay.native_source = False
        current = asyncio.current_task()
        await self.stop_peer()
        feeder = self._feeder
        if feeder is not None and feeder is not current:
            while True:  # the tags already queued are written; then the feeder stops
                with contextlib.suppress(asyncio.QueueFull):
                    self._tags.put_nowait(None)
                    break
                with contextlib.suppress(asyncio.QueueEmpty):
                    self._tags.get_nowait()
            _, pending = await asyncio.wait([feeder], timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(feeder, return_exceptions=True)
        try:
            await self.publish.close()
        except Exception:
            log.exception("session %s: closing the publish failed", self.session_id)
        if owns_relay and not self.ingest.resources(self.session_id):
            self.relay.source_ended()


class WhipIngest:
    """The WHIP publishes of one media plane (see the module docstring)."""

    def __init__(
        self,
        plane: WhipPlane,
        *,
        segment_seconds: float,
        preset: str,
        connect_timeout: float = 10.0,
        ice_servers: tuple[str, ...] = (),
    ) -> None:
        self.plane = plane
        self.ice_servers = ice_servers
        self.segment_seconds = segment_seconds
        self.preset = preset
        self.registry: PeerRegistry[WhipResource] = PeerRegistry(
            "whip", "WHIP publish", connect_timeout
        )
        install_decoders()

    def resources(self, session_id: str | None = None) -> list[WhipResource]:
        """The open publishes (of one session)."""
        return self.registry.resources(session_id)

    async def publish(
        self, session_id: str, key: str, offer: str, *, peer: str, takeover: bool = False
    ) -> WhipAnswer:
        """Accept ``offer`` for the session, or raise ``IngestDenied`` / ``BadWhipOffer``."""
        await self.plane.check_stream_key(session_id, key)
        summary = check_offer(offer)
        publish = await self.plane.open_session_publish(
            session_id, key, peer, takeover=takeover, origin=IngestOrigin.WHIP
        )
        servers = [RTCIceServer(urls=url) for url in self.ice_servers]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        resource = WhipResource(self, session_id, publish, pc)
        try:
            sdp = await resource.negotiate(offer, has_audio=summary.has_audio)
        except BaseException:
            await asyncio.shield(resource.close("the offer was not negotiated"))
            raise
        self.registry.open[resource.id] = resource
        resource.start()
        log.info("session %s: WHIP publish %s from %s", session_id, resource.id, peer)
        return WhipAnswer(resource.id, sdp, resource.etag)

    def find(self, session_id: str, resource_id: str) -> WhipResource:
        """The open publish ``resource_id`` of the session, or ``UnknownWhipResource``."""
        return self.registry.find(session_id, resource_id)

    async def delete(self, session_id: str, resource_id: str) -> None:
        """End the publish ``resource_id`` (the WHIP client's DELETE)."""
        await self.find(session_id, resource_id).close("the publisher ended it")

    async def close(self) -> None:
        """Close every publish (shutdown), and wait for closes already under way."""
        await self.registry.close()
