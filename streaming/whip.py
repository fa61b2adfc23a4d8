"""WHIP ingest (RFC 9725): a browser or OBS publishes a session over WebRTC. No HTTP here.

``WhipIngest`` (``MediaPlane.whip``) keeps the publishes of this node, one ``WhipResource`` per
accepted offer, each with its own ``RTCPeerConnection`` (aiortc):

- **Offer.** The key is checked first (``MediaPlane.check_stream_key``), then the offer
  (``webrtc_media.check_offer``), then the plane opens a publish for the session
  (``MediaPlane.open_session_publish``: refused when the session is over or already has a
  publisher, unless taking over). Transceivers are made and their codec preferences set (H.264,
  then VP8; Opus) *before* ``setRemoteDescription``, which otherwise ignores them. aiortc
  gathers its candidates before it answers, so the answer is complete: no trickle ICE. The
  answer's video formats get ``x-google-*-bitrate`` hints.
- **Media without a decode.** aiortc hands each complete encoded frame to a "decoder" it makes
  per receiver (in its own thread) with ``aiortc.rtcrtpreceiver.get_decoder``. This module
  wraps that function once (``install_decoders``): a codec object of one of our peer
  connections carries a factory (``_DECODER_ATTR``) and gets our decoder, every other codec the
  one aiortc would pick. Our decoders, still in aiortc's thread:
  ``H264PassThrough`` yields the Annex-B access unit as it came; ``Vp8ToH264`` decodes VP8 and
  encodes H.264 once per session (libx264 via PyAV, a keyframe every segment or on request);
  ``OpusToAac`` keeps the Opus packet for the WebRTC relay and encodes AAC for HLS.
- **Out.** On the event loop each unit goes to the session's WebRTC relay (H.264 Annex-B with
  SPS/PPS before each IDR at 90 kHz, Opus at 48 kHz) and, as FLV tags
  (``webrtc_media.FlvVideoMuxer``, AAC tags), through one queue to the ``Publish`` the RTMP
  listener would use, so the pipeline cannot tell the ingests apart. Browsers send almost no
  keyframes by themselves: a PLI goes out every ``segment_seconds`` (and when the relay asks).
- **End.** A resource is closed by DELETE, by its peer connection failing or closing, by its
  video track ending, when it does not connect within ``connect_timeout``, when the session
  ends (the publish's abort), by a takeover, and at shutdown (``close``). Closing stops the
  peer connection (and with it aiortc's decoder threads) and the tasks, then the publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import av
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc import rtcrtpreceiver as aiortc_receiver
from aiortc.codecs.base import Decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters

from streaming.errors import BadWhipOffer, StreamingError, UnknownWhipResource
from streaming.flv import FlvTag
from streaming.vocab import IngestOrigin
from streaming.webrtc_media import (
    FlvVideoMuxer,
    aac_config_tag,
    aac_frame_tag,
    add_bitrate_hints,
    audio_specific_config,
    check_offer,
    rtp_to_ms,
    split_annexb,
)

if TYPE_CHECKING:
    from streaming.plane import MediaPlane, Publish

log = logging.getLogger(__name__)

VIDEO_CLOCK = 90_000
AUDIO_CLOCK = 48_000
AAC_BITRATE = 192_000
START_KBPS, MIN_KBPS, MAX_KBPS = 2_500, 600, 6_000
FEED_QUEUE = 2_000
_DECODER_ATTR = "_torget_decoder"


# --- the units our decoders hand over ----------------------------------------------------------


@dataclass(frozen=True)
class VideoUnit:
    """One H.264 access unit (Annex-B), its RTP timestamp at 90 kHz from the first frame."""

    data: bytes
    pts: int
    keyframe: bool


@dataclass(frozen=True)
class AudioUnit:
    """One Opus packet (48 kHz RTP time) and the AAC frames (raw, 48 kHz pts) it became."""

    opus: bytes
    pts: int
    aac: tuple[tuple[bytes, int], ...]


# --- decoders that run in aiortc's decoder thread -----------------------------------------------


class H264PassThrough(Decoder):
    """Hands the encoded access unit on as it came (no decode)."""

    def decode(self, encoded_frame: JitterFrame) -> list[Any]:
        data = encoded_frame.data
        keyframe = any(nal and nal[0] & 0x1F == 5 for nal in split_annexb(data))
        return [VideoUnit(data, encoded_frame.timestamp, keyframe)]


class KeyframeFlag:
    """A keyframe request crossing from the event loop to a decoder thread."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        """Ask for a keyframe."""
        self._event.set()

    def take(self) -> bool:
        """Whether one was asked for (and clear the request)."""
        if self._event.is_set():
            self._event.clear()
            return True
        return False


class Vp8ToH264(Decoder):
    """Decodes VP8 and encodes H.264 (libx264, no B-frames), a keyframe every ``interval`` s."""

    def __init__(self, interval: float, preset: str, wanted: KeyframeFlag) -> None:
        self.decoder = av.CodecContext.create("vp8", "r")
        self.encoder: Any = None
        self.size: tuple[int, int] | None = None
        self.interval_ticks = max(1, round(interval * VIDEO_CLOCK))
        self.preset = preset
        self.wanted = wanted
        self.last_key: int | None = None

    def _open(self, width: int, height: int) -> Any:
        encoder: Any = av.CodecContext.create("libx264", "w")
        encoder.width, encoder.height = width, height
        encoder.pix_fmt = "yuv420p"
        encoder.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        encoder.framerate = fractions.Fraction(30, 1)
        encoder.bit_rate = max(300_000, min(int(width * height * 30 * 0.1), 8_000_000))
        encoder.options = {"preset": self.preset, "tune": "zerolatency", "profile": "high"}
        encoder.max_b_frames = 0
        encoder.gop_size = 10 * 30
        return encoder

    def decode(self, encoded_frame: JitterFrame) -> list[Any]:
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        units: list[Any] = []
        for frame in self.decoder.decode(packet):
            picture = frame
            size = (picture.width - picture.width % 2, picture.height - picture.height % 2)
            if size != self.size or self.encoder is None:
                self.size = size
                self.encoder = self._open(*size)
                self.last_key = None
            if picture.format.name != "yuv420p" or (picture.width, picture.height) != size:
                picture = picture.reformat(width=size[0], height=size[1], format="yuv420p")
            pts = encoded_frame.timestamp
            picture.pts = pts
            due = self.last_key is None or pts - self.last_key >= self.interval_ticks
            if self.wanted.take() or due:
                picture.pict_type = av.video.frame.PictureType.I
                self.last_key = pts
            else:
                picture.pict_type = av.video.frame.PictureType.NONE
            for out in self.encoder.encode(picture):
                units.append(VideoUnit(bytes(out), int(out.pts or pts), bool(out.is_keyframe)))
        return units


class OpusToAac(Decoder):
    """Keeps each Opus packet and encodes the audio to AAC (48 kHz stereo) for HLS."""

    def __init__(self) -> None:
        self.decoder = av.CodecContext.create("libopus", "r")
        self.resampler = av.AudioResampler(
            format="fltp", layout="stereo", rate=AUDIO_CLOCK, frame_size=1024
        )
        encoder: Any = av.CodecContext.create("aac", "w")
        encoder.sample_rate = AUDIO_CLOCK
        encoder.layout = "stereo"
        encoder.format = "fltp"
        encoder.bit_rate = AAC_BITRATE
        encoder.time_base = fractions.Fraction(1, AUDIO_CLOCK)
        self.encoder = encoder

    def decode(self, encoded_frame: JitterFrame) -> list[Any]:
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = fractions.Fraction(1, AUDIO_CLOCK)
        aac: list[tuple[bytes, int]] = []
        try:
            for frame in self.decoder.decode(packet):
                frame.pts = encoded_frame.timestamp
                frame.time_base = fractions.Fraction(1, AUDIO_CLOCK)
                for chunk in self.resampler.resample(frame):
                    for out in self.encoder.encode(chunk):
                        aac.append((bytes(out), int(out.pts or 0)))
        except av.FFmpegError as exc:
            log.debug("opus packet not decoded: %s", exc)
        return [AudioUnit(encoded_frame.data, encoded_frame.timestamp, tuple(aac))]


_original_get_decoder: Callable[[RTCRtpCodecParameters], Decoder] | None = None


def _get_decoder(codec: RTCRtpCodecParameters) -> Decoder:
    factory = getattr(codec, _DECODER_ATTR, None)
    if factory is not None:
        decoder: Decoder = factory()
        return decoder
    assert _original_get_decoder is not None
    return _original_get_decoder(codec)


def install_decoders() -> None:
    """Let codecs of WHIP peer connections bring their own decoder (idempotent)."""
    global _original_get_decoder
    current = aiortc_receiver.get_decoder  # type: ignore[attr-defined]
    if current is not _get_decoder:
        _original_get_decoder = current
        aiortc_receiver.get_decoder = _get_decoder  # type: ignore[attr-defined]


# --- one publish -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhipAnswer:
    """What the HTTP side answers an accepted offer with."""

    resource_id: str
    sdp: str
    etag: str


def _preferences(kind: str) -> list[RTCRtpCodecCapability]:
    capabilities = RTCRtpReceiver.getCapabilities(kind)
    assert capabilities is not None
    codecs = capabilities.codecs
    if kind == "audio":
        return [c for c in codecs if c.mimeType.lower() == "audio/opus"]
    order = ("video/h264", "video/vp8", "video/rtx")
    return [c for name in order for c in codecs if c.mimeType.lower() == name]


class WhipResource:
    """One accepted WHIP offer: its peer connection, its publish and its tasks."""

    def __init__(
        self,
        ingest: WhipIngest,
        session_id: str,
        publish: Publish,
        pc: RTCPeerConnection,
    ) -> None:
        self.ingest = ingest
        self.id = "wr_" + secrets.token_urlsafe(16)
        self.etag = f'"{secrets.token_hex(8)}"'
        self.session_id = session_id
        self.publish = publish
        self.pc = pc
        self.relay = ingest.plane.relays.relay(session_id)
        self.closed = False
        self.video_receiver: RTCRtpReceiver | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._tags: asyncio.Queue[FlvTag | None] = asyncio.Queue(FEED_QUEUE)
        self._pli = asyncio.Event()
        self._wanted = KeyframeFlag()
        self._t0: float | None = None
        self._dropped = 0
        self._closing: asyncio.Task[None] | None = None
        self._feeder: asyncio.Task[None] | None = None

    # --- set-up

    async def negotiate(self, offer: str, *, has_audio: bool) -> str:
        """Answer ``offer`` (candidates gathered, bit rate hints added)."""
        pc = self.pc
        video = pc.addTransceiver("video", direction="recvonly")
        video.setCodecPreferences(_preferences("video"))
        audio = None
        if has_audio:
            audio = pc.addTransceiver("audio", direction="recvonly")
            audio.setCodecPreferences(_preferences("audio"))
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._on_state)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        except Exception as exc:  # aiortc raises ValueError and its own errors for bad offers
            raise BadWhipOffer(
                f"the offer cannot be negotiated: {exc or type(exc).__name__}"
            ) from None
        segment = self.ingest.segment_seconds
        preset = self.ingest.preset
        wanted = self._wanted
        for codec in video._codecs:
            mime = codec.mimeType.lower()
            if mime == "video/h264":
                setattr(codec, _DECODER_ATTR, H264PassThrough)
            elif mime == "video/vp8":
                setattr(codec, _DECODER_ATTR, lambda: Vp8ToH264(segment, preset, wanted))
        if audio is not None:
            for codec in audio._codecs:
                if codec.mimeType.lower() == "audio/opus":
                    setattr(codec, _DECODER_ATTR, OpusToAac)
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
        self._spawn(self._keyframes(), "keyframes")
        self._spawn(self._connect_deadline(), "connect deadline")

    def _spawn(self, coro: Any, what: str) -> None:
        task = asyncio.create_task(coro, name=f"whip {self.session_id} {what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- events

    def _on_track(self, track: MediaStreamTrack) -> None:
        if self.closed:
            return
        if track.kind == "video":
            self._spawn(self._video(track), "video")
        elif track.kind == "audio":
            self._spawn(self._audio(track), "audio")

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        if state in ("failed", "closed"):
            self.abort(f"peer connection {state}")

    def abort(self, reason: str = "the session ended") -> None:
        """Close this publish soon (from a callback; ``close`` does the work)."""
        if self._closing is None and not self.closed:
            self._closing = asyncio.create_task(
                self.close(reason), name=f"whip {self.session_id} close"
            )
            self.ingest._closing.add(self._closing)
            self._closing.add_done_callback(self.ingest._closing.discard)

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
                if not isinstance(unit, VideoUnit):
                    continue  # a decoded frame: this codec is not one we negotiated
                if offset is None:
                    offset = self._offset_ms()
                timestamp = rtp_to_ms(offset, unit.pts, VIDEO_CLOCK)
                access, tags = muxer.push(unit.data, timestamp)
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
                if not isinstance(unit, AudioUnit):
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
        """A PLI every segment, and whenever a keyframe is asked for."""
        interval = self.ingest.segment_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pli.wait(), interval)
            self._pli.clear()
            receiver = self.video_receiver
            if receiver is None or self.pc.connectionState != "connected":
                continue
            for source in receiver.getSynchronizationSources():
                await receiver._send_rtcp_pli(source.source)

    async def _connect_deadline(self) -> None:
        await asyncio.sleep(self.ingest.connect_timeout)
        if self.pc.connectionState != "connected":
            self.abort(f"not connected within {self.ingest.connect_timeout:g} s")

    # --- the end

    async def close(self, reason: str = "closed") -> None:
        """Stop the peer connection, the tasks and the publish (idempotent)."""
        if self.closed:
            return
        self.closed = True
        log.info("session %s: WHIP publish %s ends: %s", self.session_id, self.id, reason)
        self.ingest._resources.pop(self.id, None)
        # A takeover's new publisher may own the relay already: leave it alone then.
        owns_relay = not self.ingest.resources(self.session_id)
        if owns_relay:
            self.relay.set_keyframe_requester(None)
            self.relay.native_source = False
        current = asyncio.current_task()
        try:
            await asyncio.wait_for(self.pc.close(), 10)
        except Exception:  # a peer that cannot close cleanly is dropped all the same
            log.exception("session %s: closing the peer connection failed", self.session_id)
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
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


# --- every publish of this node ----------------------------------------------------------------


class WhipIngest:
    """The WHIP publishes of one media plane (see the module docstring)."""

    def __init__(
        self,
        plane: MediaPlane,
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
        self.connect_timeout = connect_timeout
        self._resources: dict[str, WhipResource] = {}
        self._closing: set[asyncio.Task[None]] = set()
        install_decoders()

    def resources(self, session_id: str | None = None) -> list[WhipResource]:
        """The open publishes (of one session)."""
        return [r for r in self._resources.values() if session_id in (None, r.session_id)]

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
        self._resources[resource.id] = resource
        resource.start()
        log.info("session %s: WHIP publish %s from %s", session_id, resource.id, peer)
        return WhipAnswer(resource.id, sdp, resource.etag)

    def find(self, session_id: str, resource_id: str) -> WhipResource:
        """The open publish ``resource_id`` of the session, or ``UnknownWhipResource``."""
        resource = self._resources.get(resource_id)
        if resource is None or resource.session_id != session_id:
            raise UnknownWhipResource(f"session {session_id} has no WHIP publish {resource_id}")
        return resource

    async def delete(self, session_id: str, resource_id: str) -> None:
        """End the publish ``resource_id`` (the WHIP client's DELETE)."""
        await self.find(session_id, resource_id).close("the publisher ended it")

    async def close(self) -> None:
        """Close every publish (shutdown), and wait for closes already under way."""
        resources = list(self._resources.values())
        await asyncio.gather(*(r.close("shutting down") for r in resources), return_exceptions=True)
        if self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)
