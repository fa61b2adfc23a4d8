"""A WHIP publisher that behaves like a browser's camera, built on aiortc: its picture size and
frame rate change as it goes (a browser ramps up in its first seconds and adapts later), its
frames are captured a little irregularly and dropped now and then (a loaded encoder), and it
sends keyframes when asked (RTCP PLI)."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

VIDEO_CLOCK = 90_000


@dataclass(frozen=True)
class Phase:
    """From ``at`` seconds on, the camera sends ``width``x``height`` at ``fps``."""

    at: float
    width: int
    height: int
    fps: float


@dataclass
class Timing:
    """How irregular the frames are: each is captured up to ``jitter`` s off its tick, a
    fraction ``drop`` of them is dropped alone, and a fraction ``burst`` starts a run of 3 to
    ``burst_frames`` dropped frames (a stall of a tenth of a second or more)."""

    jitter: float = 0.004
    drop: float = 0.03
    burst: float = 0.004
    burst_frames: int = 8
    seed: int = 18


@dataclass
class CameraLog:
    """What the camera sent: frames, drops, the sizes in order, and the longest gap (s)."""

    frames: int = 0
    dropped: int = 0
    sizes: list[tuple[int, int]] = field(default_factory=list)
    longest_gap: float = 0.0


class BrowserLikeCamera(MediaStreamTrack):
    """Moving bars following ``phases`` (see the module docstring)."""

    kind = "video"

    def __init__(self, phases: Sequence[Phase], timing: Timing | None = None) -> None:
        super().__init__()
        self.phases = sorted(phases, key=lambda p: p.at)
        self.timing = timing or Timing()
        self.log = CameraLog()
        self._random = random.Random(self.timing.seed)
        self._t0: float | None = None
        self._next = 0.0  # the next tick, seconds since the start
        self._last_pts: int | None = None
        self._skip = 0

    def _phase(self, at: float) -> Phase:
        current = self.phases[0]
        for phase in self.phases:
            if phase.at <= at:
                current = phase
        return current

    def _frame(self, phase: Phase, count: int) -> av.VideoFrame:
        width, height = phase.width, phase.height
        shift = (count * 4) % 256
        ramp = bytes(x & 0xFF for x in range(shift, shift + width))
        frame = av.VideoFrame(width, height, "yuv420p")
        frame.planes[0].update(ramp * height)
        chroma = bytes([128]) * (width // 2 * height // 2)
        frame.planes[1].update(chroma)
        frame.planes[2].update(chroma)
        return frame

    async def recv(self) -> av.VideoFrame:
        """The next captured frame, at its capture time (dropped ones are skipped)."""
        loop = asyncio.get_running_loop()
        if self._t0 is None:
            self._t0 = loop.time()
        timing = self.timing
        while True:
            phase = self._phase(self._next)
            tick = self._next
            self._next += 1 / phase.fps
            if self._skip > 0:
                self._skip -= 1
                self.log.dropped += 1
                continue
            roll = self._random.random()
            if roll < timing.burst:
                self._skip = self._random.randint(2, max(2, timing.burst_frames - 1))
                self.log.dropped += 1
                continue
            if roll < timing.burst + timing.drop and self.log.frames > 0:
                self.log.dropped += 1
                continue
            break
        captured = max(0.0, tick + self._random.uniform(0, timing.jitter))
        await asyncio.sleep(max(0.0, self._t0 + captured - loop.time()))
        frame = self._frame(phase, self.log.frames)
        pts = round(captured * VIDEO_CLOCK)
        if self._last_pts is not None:
            pts = max(pts, self._last_pts + 1)
            self.log.longest_gap = max(self.log.longest_gap, (pts - self._last_pts) / VIDEO_CLOCK)
        self._last_pts = pts
        frame.pts, frame.time_base = pts, fractions.Fraction(1, VIDEO_CLOCK)
        if not self.log.sizes or self.log.sizes[-1] != (phase.width, phase.height):
            self.log.sizes.append((phase.width, phase.height))
        self.log.frames += 1
        return frame


@dataclass
class WhipPublish:
    """An aiortc peer publishing over WHIP: its answer and where its resource is."""

    pc: RTCPeerConnection
    camera: BrowserLikeCamera
    status: int
    location: str | None
    body: str


@contextlib.asynccontextmanager
async def browser_like_publisher(
    client: Any,
    session_id: str,
    key: str,
    camera: BrowserLikeCamera,
    audio: MediaStreamTrack | None = None,
) -> AsyncIterator[WhipPublish]:
    """Publish ``camera`` (H.264) and ``audio`` over WHIP through ``client`` (an aiohttp test
    client) for the block; the peer is closed afterwards."""
    pc = RTCPeerConnection()
    try:
        video = pc.addTransceiver(camera, direction="sendonly")
        capabilities = RTCRtpSender.getCapabilities("video")
        assert capabilities is not None
        video.setCodecPreferences([c for c in capabilities.codecs if c.mimeType == "video/H264"])
        if audio is not None:
            pc.addTransceiver(audio, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        answer = await client.post(
            f"/whip/{session_id}",
            data=pc.localDescription.sdp.encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/sdp"},
        )
        body = await answer.text()
        if answer.status == 201:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        yield WhipPublish(pc, camera, answer.status, answer.headers.get("Location"), body)
    finally:
        await pc.close()
