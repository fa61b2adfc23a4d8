"""WebRTC playback (WHEP) of a session's relay: one aiortc peer per viewer, no encoding.

``WhepManager`` answers a viewer's offer with a peer whose tracks return the relay's shared
``av.Packet``s (aiortc packetizes them without encoding), enforces the viewer caps and frees
viewers; its refusals are ``WhepRefused`` errors (``web.errors`` answers them). See
``docs/architecture.md`` ("WebRTC playback (WHEP)").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from streaming.errors import BadWhepOffer, FeedClosed, NotLive, WhepFull
from streaming.interpretation import CHANNELS, EAR_CHUNK, InterpretationDesk, VoiceEar
from streaming.relay import (
    AUDIO_CLOCK,
    VIDEO_CLOCK,
    AudioUnit,
    RelayHub,
    VideoUnit,
    ViewerFeed,
)
from streaming.webrtc_media import without_mdns_candidates

log = logging.getLogger(__name__)

SDP_TYPE = "application/sdp"  # the offers and answers of WHEP and WHIP
MAX_OFFER_BYTES = 64 * 1024  # the largest SDP offer either takes
_MEDIA_LINE = re.compile(r"^m=(audio|video) ", re.MULTILINE)
_RESOURCE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
VIDEO_TIME_BASE = Fraction(1, VIDEO_CLOCK)
AUDIO_TIME_BASE = Fraction(1, AUDIO_CLOCK)


@dataclass(frozen=True)
class WhepLimits:
    """Caps and timeouts (from the ``[media]`` settings)."""

    max_viewers: int = 100
    max_viewers_per_session: int = 100
    connect_timeout: float = 20.0
    ice_servers: tuple[str, ...] = ()


def check_offer(sdp: str) -> None:
    """Raise ``BadWhepOffer`` unless ``sdp`` looks like an SDP offer with audio or video."""
    if len(sdp.encode()) > MAX_OFFER_BYTES:
        raise BadWhepOffer(f"the SDP offer is larger than {MAX_OFFER_BYTES} bytes")
    if not sdp.lstrip().startswith("v=0"):
        raise BadWhepOffer("the body is not an SDP offer (it must start with v=0)")
    if not _MEDIA_LINE.search(sdp):
        raise BadWhepOffer("the SDP offer has no audio or video section")


def full_message(node: int, session: int, limits: WhepLimits, hls: str) -> str | None:
    """Why one more viewer is refused (a cap is reached), or None to admit it."""
    if limits.max_viewers == 0 or limits.max_viewers_per_session == 0:
        return f"low-latency (WebRTC) playback is off on this server; watch with HLS at {hls}"
    if node >= limits.max_viewers:
        return (
            f"this server already has {limits.max_viewers} low-latency (WebRTC) viewers; "
            f"watch with HLS at {hls} or try again later"
        )
    if session >= limits.max_viewers_per_session:
        return (
            f"this session already has {limits.max_viewers_per_session} low-latency (WebRTC) "
            f"viewers; watch with HLS at {hls} or try again later"
        )
    return None


def is_resource_id(text: str) -> bool:
    """Whether ``text`` can be a WHEP resource id."""
    return bool(_RESOURCE_ID.fullmatch(text))


# --- aiortc adapters ----------------------------------------------------------------------------


def _packet(data: bytes, pts: int, time_base: Fraction) -> Any:
    import av

    packet = av.Packet(data)
    packet.pts = pts
    packet.time_base = time_base
    return packet


def _video_packet(unit: VideoUnit, pts: int) -> Any:
    if pts != unit.pts:
        return _packet(unit.data, pts, VIDEO_TIME_BASE)
    if unit.carrier is None:
        unit.carrier = _packet(unit.data, pts, VIDEO_TIME_BASE)
    return unit.carrier


def _audio_packet(unit: AudioUnit) -> Any:
    if unit.carrier is None:
        unit.carrier = _packet(unit.data, unit.pts, AUDIO_TIME_BASE)
    return unit.carrier


_OPUS_FRAME_MS = (10, 20, 40, 60) * 3 + (10, 20) * 2 + (2.5, 5, 10, 20) * 4  # by TOC config


def opus_samples(packet: bytes) -> int:
    """How many 48 kHz samples an Opus packet lasts (RFC 6716 3.1: its TOC byte's frame size
    and frame count); 960 (20 ms) for a packet too short to tell."""
    if not packet:
        return 960
    toc = packet[0]
    per_frame = round(_OPUS_FRAME_MS[toc >> 3] * 48)
    code = toc & 0x03
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        frames = packet[1] & 0x3F if len(packet) > 1 else 1
    return per_frame * max(frames, 1)


class Interpreted:
    """What a WebRTC viewer of an interpretation language hears, pure: the interpreter's voice
    (raw chunks, encoded for this viewer) while they are on air, the original's Opus packets
    otherwise; one clock (48 kHz) across both, so the switch is seamless."""

    def __init__(self) -> None:
        self.pts = 0

    def stamp(self, samples: int) -> int:
        """The timestamp of the next piece of sound lasting ``samples``."""
        pts, self.pts = self.pts, self.pts + samples
        return pts


def _tracks(
    feed: ViewerFeed,
    voice: tuple[InterpretationDesk, VoiceEar] | None = None,
) -> tuple[Any, Any]:
    """A video and an audio ``MediaStreamTrack`` reading encoded packets from ``feed``; with
    ``voice``, the audio is the interpreter's while they are on air (``Interpreted``)."""
    from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

    class RelayVideoTrack(MediaStreamTrack):
        kind = "video"

        async def recv(self) -> Any:
            try:
                unit, pts = await feed.next_video()
            except FeedClosed:
                self.stop()
                raise MediaStreamError from None
            return _video_packet(unit, pts)

    class RelayAudioTrack(MediaStreamTrack):
        kind = "audio"

        async def recv(self) -> Any:
            try:
                unit = await feed.next_audio()
            except FeedClosed:
                self.stop()
                raise MediaStreamError from None
            return _audio_packet(unit)

    if voice is None:
        return RelayVideoTrack(), RelayAudioTrack()
    desk, ear = voice
    clock = Interpreted()
    woken = asyncio.Event()
    ear.wake = woken.set

    class InterpretedAudioTrack(MediaStreamTrack):
        kind = "audio"

        async def recv(self) -> Any:
            import av

            while True:
                if feed.closed:
                    self.stop()
                    raise MediaStreamError
                if desk.is_live(ear.session_id, ear.language):
                    feed.audio.clear()  # the original is not heard meanwhile
                    chunk = ear.pop()
                    if chunk is None:
                        woken.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(woken.wait(), 0.1)
                        continue
                    samples = EAR_CHUNK // (2 * CHANNELS)
                    frame = av.AudioFrame(format="s16", layout="stereo", samples=samples)
                    frame.planes[0].update(chunk)
                    frame.sample_rate = AUDIO_CLOCK
                    frame.pts, frame.time_base = clock.stamp(samples), AUDIO_TIME_BASE
                    return frame
                ear.clear()
                try:
                    unit = await asyncio.wait_for(feed.next_audio(), 0.1)
                except TimeoutError:
                    continue  # the interpreter may be back
                except FeedClosed:
                    self.stop()
                    raise MediaStreamError from None
                return _packet(unit.data, clock.stamp(opus_samples(unit.data)), AUDIO_TIME_BASE)

    return RelayVideoTrack(), InterpretedAudioTrack()


def _preferred(kind: str, mime: str) -> list[Any]:
    from aiortc import RTCRtpSender

    codecs = RTCRtpSender.getCapabilities(kind).codecs
    return [c for c in codecs if c.mimeType.lower() in (mime, f"{kind}/rtx")]


@dataclass(eq=False)
class WhepViewer:
    """One WHEP resource: a viewer's peer connection and feed."""

    id: str
    session_id: str
    pc: Any
    feed: ViewerFeed
    audience: str | None = None
    connected: bool = False
    closing: bool = False
    timer: asyncio.TimerHandle | None = None
    ear: VoiceEar | None = None  # listening to an interpreter


Listener = Callable[[str, int], None]


@dataclass
class WhepManager:
    """Every WHEP viewer of this node (see the module docstring)."""

    hub: RelayHub
    limits: WhepLimits = field(default_factory=WhepLimits)
    hls_path: Callable[[str], str] = lambda session_id: f"/hls/{session_id}/index.m3u8"
    interpretation: InterpretationDesk | None = None  # the interpreters' voices, if any
    _viewers: dict[str, WhepViewer] = field(default_factory=dict)
    _by_session: dict[str, set[str]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _listeners: list[Listener] = field(default_factory=list)
    _closed: bool = False

    # --- counts

    def viewers(self, session_id: str) -> int:
        """How many WHEP viewers the session has on this node."""
        return len(self._by_session.get(session_id, ()))

    def viewer_ids(self, session_id: str) -> frozenset[str]:
        """Who the session's viewers on this node are: their viewer id where the request gave
        one (so a viewer with a websocket too counts once), else their WHEP resource id."""
        viewers = (self._viewers.get(i) for i in self._by_session.get(session_id, ()))
        return frozenset(v.audience or v.id for v in viewers if v is not None)

    @property
    def total(self) -> int:
        """How many WHEP viewers this node has."""
        return len(self._viewers)

    def on_change(self, listener: Listener) -> None:
        """Call ``listener(session_id, count)`` whenever a session's WHEP viewers change."""
        self._listeners.append(listener)

    def _changed(self, session_id: str) -> None:
        count = self.viewers(session_id)
        for listener in self._listeners:
            try:
                listener(session_id, count)
            except Exception:  # a listener's bug must not break playback
                log.exception("WHEP viewer-count listener failed")

    # --- lifecycle

    async def open(
        self,
        session_id: str,
        offer: str,
        audience: str | None = None,
        language: str | None = None,
    ) -> tuple[str, str]:
        """Answer a viewer's offer: (resource id, SDP answer). Raises ``WhepRefused``.
        ``audience`` is the viewer's id in the viewer count, when the request names one;
        ``language`` an interpretation language to hear (checked by the caller)."""
        from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
        from aiortc import RTCSessionDescription as Description

        check_offer(offer)
        if self._closed:
            raise NotLive("this server is shutting down")
        relay = self.hub.get(session_id)
        if relay is None or not relay.live:
            raise NotLive(
                "this session is not being broadcast right now; "
                "low-latency playback starts once its ingest is up"
            )
        hls = self.hls_path(session_id)
        refusal = full_message(self.total, self.viewers(session_id), self.limits, hls)
        if refusal is not None:
            raise WhepFull(refusal, hls)
        viewer_id = secrets.token_urlsafe(18)
        servers = [RTCIceServer(urls=url) for url in self.limits.ice_servers]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        feed = relay.subscribe()
        ear = None
        if language and self.interpretation is not None:
            ear = self.interpretation.listen(session_id, language)
        viewer = WhepViewer(viewer_id, session_id, pc, feed, audience, ear=ear)
        self._viewers[viewer_id] = viewer
        self._by_session.setdefault(session_id, set()).add(viewer_id)
        try:
            voice = (
                None if ear is None or self.interpretation is None else (self.interpretation, ear)
            )
            video, audio = _tracks(feed, voice)
            wants = {m.group(1) for m in _MEDIA_LINE.finditer(offer)}
            if "video" in wants:
                sending = pc.addTransceiver(video, direction="sendonly")
                sending.setCodecPreferences(_preferred("video", "video/h264"))
                sending.sender._send_keyframe = relay.request_keyframe  # type: ignore[method-assign]
            if "audio" in wants:
                sending = pc.addTransceiver(audio, direction="sendonly")
                sending.setCodecPreferences(_preferred("audio", "audio/opus"))

            @pc.on("connectionstatechange")
            def state_changed() -> None:
                if pc.connectionState == "connected":
                    viewer.connected = True
                elif pc.connectionState in ("failed", "closed"):
                    self._spawn(self.close_viewer(viewer_id))

            try:
                usable = without_mdns_candidates(offer)
                await pc.setRemoteDescription(Description(sdp=usable, type="offer"))
            except ValueError as exc:
                raise BadWhepOffer(f"the SDP offer cannot be used: {exc}") from None
            except Exception as exc:  # aiortc's OperationError / InvalidStateError
                raise BadWhepOffer(_negotiation_message(str(exc))) from None
            await pc.setLocalDescription(await pc.createAnswer())
            answer: str = pc.localDescription.sdp
        except BaseException:
            await self.close_viewer(viewer_id)
            raise
        viewer.timer = asyncio.get_running_loop().call_later(
            self.limits.connect_timeout, self._connect_deadline, viewer_id
        )
        self._changed(session_id)
        log.info("session %s: WHEP viewer %s joined", session_id, viewer_id[:6])
        return viewer_id, answer

    def _connect_deadline(self, viewer_id: str) -> None:
        viewer = self._viewers.get(viewer_id)
        if viewer is not None and not viewer.connected:
            log.info("session %s: WHEP viewer never connected", viewer.session_id)
            self._spawn(self.close_viewer(viewer_id))

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close_viewer(self, viewer_id: str, session_id: str | None = None) -> bool:
        """End a viewer (DELETE, ICE failure, timeout); False when there is no such viewer
        (in that session, when ``session_id`` is given)."""
        viewer = self._viewers.get(viewer_id)
        if viewer is None or (session_id is not None and viewer.session_id != session_id):
            return False
        if viewer.closing:
            return True
        viewer.closing = True
        if viewer.timer is not None:
            viewer.timer.cancel()
        viewer.feed.close()
        if viewer.ear is not None and self.interpretation is not None:
            self.interpretation.unlisten(viewer.ear)
        try:
            await viewer.pc.close()
        except Exception:  # closing a broken peer must still free it
            log.exception("closing a WHEP peer failed")
        self._viewers.pop(viewer_id, None)
        ids = self._by_session.get(viewer.session_id)
        if ids is not None:
            ids.discard(viewer_id)
            if not ids:
                del self._by_session[viewer.session_id]
        self._changed(viewer.session_id)
        log.info("session %s: WHEP viewer %s left", viewer.session_id, viewer_id[:6])
        return True

    async def close_session(self, session_id: str) -> None:
        """The session is over: its viewers are closed and its relay dropped."""
        ids = list(self._by_session.get(session_id, ()))
        await asyncio.gather(*(self.close_viewer(i) for i in ids))
        self.hub.drop(session_id)

    async def close(self) -> None:
        """The node stops: every viewer is closed; no task is left behind."""
        self._closed = True
        await asyncio.gather(*(self.close_viewer(i) for i in list(self._viewers)))
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _negotiation_message(detail: str) -> str:
    if "video" in detail:
        return "the offer's video has no codec this server sends (H.264, packetization-mode 1)"
    if "audio" in detail:
        return "the offer's audio has no codec this server sends (Opus)"
    return f"the SDP offer cannot be negotiated: {detail}"


async def drain(manager: WhepManager) -> None:
    """Wait until closing tasks the manager started are done (tests and shutdown)."""
    with contextlib.suppress(asyncio.CancelledError):
        while manager._tasks:
            await asyncio.gather(*list(manager._tasks), return_exceptions=True)
