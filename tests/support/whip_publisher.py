"""An aiortc WHIP publisher (moving bars and a tone) for a running Torget's media stage."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import av
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from tests.support.media_stage import Stage
from tests.support.waiting import until
from web.keys import MEDIA

WIDTH, HEIGHT = 640, 360


class MovingBars(VideoStreamTrack):
    """Vertical bars that move every frame, 640x360 at aiortc's 30 fps."""

    def __init__(self) -> None:
        super().__init__()
        self._ramp = bytes(x & 0xFF for x in range(WIDTH + 256))
        self._chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
        self._count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        shift = (self._count * 4) % 256
        self._count += 1
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        frame.planes[0].update(self._ramp[shift : shift + WIDTH] * HEIGHT)
        frame.planes[1].update(self._chroma)
        frame.planes[2].update(self._chroma)
        frame.pts, frame.time_base = pts, time_base
        return frame


class Tone(AudioStreamTrack):
    """A 400 Hz tone, 48 kHz mono, 20 ms frames in real time."""

    def __init__(self) -> None:
        super().__init__()
        period = [round(8000 * math.sin(2 * math.pi * i / 120)) for i in range(120)]
        self._samples = struct.pack("<960h", *(period * 8))
        self._pts = 0
        self._t0: float | None = None

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self._t0 is None:
            self._t0 = loop.time()
        else:
            self._pts += 960
            await asyncio.sleep(max(0.0, self._t0 + self._pts / 48000 - loop.time()))
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(self._samples)
        frame.sample_rate = 48000
        frame.pts, frame.time_base = self._pts, fractions.Fraction(1, 48000)
        return frame


@dataclass
class Publisher:
    """An aiortc peer publishing over WHIP, and where its resource is."""

    pc: RTCPeerConnection
    status: int
    location: str | None
    body: str
    headers: Any


async def offer_for(video_codec: str = "video/H264", audio: bool = True) -> RTCPeerConnection:
    """A peer connection with a sending video (and audio) track and its offer set locally."""
    pc = RTCPeerConnection()
    video = pc.addTransceiver(MovingBars(), direction="sendonly")
    capabilities = RTCRtpSender.getCapabilities("video")
    assert capabilities is not None
    video.setCodecPreferences([c for c in capabilities.codecs if c.mimeType == video_codec])
    if audio:
        pc.addTransceiver(Tone(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc


async def voice_offer() -> RTCPeerConnection:
    """A peer connection sending only a tone (an interpreter's voice), its offer set locally."""
    pc = RTCPeerConnection()
    pc.addTransceiver(Tone(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc


async def whip_post(
    st: Stage, session_id: str, key: str, sdp: str, **headers: str
) -> tuple[int, Any, str]:
    """POST an offer to the session's WHIP endpoint; the status, headers and body."""
    answer = await st.app.client.post(
        f"/whip/{session_id}",
        data=sdp.encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/sdp", **headers},
    )
    return answer.status, answer.headers, await answer.text()


@contextlib.asynccontextmanager
async def whip_publisher(
    st: Stage, session_id: str, key: str, video_codec: str = "video/H264", **headers: str
) -> AsyncIterator[Publisher]:
    """Publish over WHIP for the block; the peer is closed afterwards."""
    pc = await offer_for(video_codec)
    try:
        status, answer_headers, body = await whip_post(
            st, session_id, key, pc.localDescription.sdp, **headers
        )
        if status == 201:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
        yield Publisher(pc, status, answer_headers.get("Location"), body, answer_headers)
    finally:
        await pc.close()


async def interpreter_on_air(st: Stage, session_id: str) -> Any:
    """An aiortc interpreter of English on air for the session (its peer connection)."""
    body = {"role": "interpreter", "name": "Booth 1", "studio_ids": [st.studio]}
    made = await st.app.client.post("/api/v1/tokens", json=body, headers=st.app.admin)
    token = (await made.json())["token"]
    pc = await voice_offer()
    answer = await st.app.client.post(
        f"/whip/{session_id}/interpret/en",
        data=pc.localDescription.sdp.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/sdp"},
    )
    assert answer.status == 201, await answer.text()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=await answer.text(), type="answer"))
    desk = st.app.web_app[MEDIA].interpretation
    await until(lambda: desk.is_live(session_id, "en"), timeout=20, what="on air")
    return pc
