"""aiortc WHEP viewers of a running media stage: what they decode, where their resource is."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from tests.support.media_stage import Stage
from tests.support.waiting import until
from web.keys import WHEP

SDP = {"Content-Type": "application/sdp"}
SOUND_KEPT = 48_000 * 4  # bytes of decoded sound a viewer keeps: a second of 48 kHz stereo s16


@dataclass
class Viewer:
    """An aiortc WHEP viewer: what it received, and where its resource is."""

    pc: RTCPeerConnection
    location: str = ""
    sizes: list[tuple[int, int]] = field(default_factory=list)
    audio_frames: int = 0
    sound: bytearray = field(default_factory=bytearray)  # the last second heard (s16, stereo)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def close(self) -> None:
        """Close the peer and stop reading."""
        await self.pc.close()
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
                await task


async def _read(viewer: Viewer, track: Any) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            frame = await track.recv()
            if track.kind == "video":
                viewer.sizes.append((frame.width, frame.height))
            else:
                viewer.audio_frames += 1
                viewer.sound += bytes(frame.planes[0])
                del viewer.sound[:-SOUND_KEPT]


def peer(video: bool = True, audio: bool = True) -> tuple[Viewer, RTCPeerConnection]:
    """A receive-only peer (video and audio) whose tracks are read into a Viewer."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    viewer = Viewer(pc)
    if video:
        pc.addTransceiver("video", direction="recvonly")
    if audio:
        pc.addTransceiver("audio", direction="recvonly")

    @pc.on("track")
    def on_track(track: Any) -> None:
        viewer.tasks.append(asyncio.create_task(_read(viewer, track)))

    return viewer, pc


async def post_offer(st: Stage, session_id: str, sdp: str, query: str = "") -> Any:
    """POST an SDP offer to the session's WHEP endpoint."""
    return await st.app.client.post(f"/whep/{session_id}{query}", data=sdp, headers=SDP)


@contextlib.asynccontextmanager
async def viewer(st: Stage, session_id: str, query: str = "") -> AsyncIterator[Viewer]:
    """A connected WHEP viewer for the block, closed afterwards."""
    watcher, pc = peer()
    try:
        await pc.setLocalDescription(await pc.createOffer())
        answer = await post_offer(st, session_id, pc.localDescription.sdp, query)
        assert answer.status == 201, await answer.text()
        assert answer.content_type == "application/sdp"
        watcher.location = answer.headers["Location"]
        await pc.setRemoteDescription(RTCSessionDescription(await answer.text(), "answer"))
        yield watcher
    finally:
        await watcher.close()


async def relay_live(st: Stage, session_id: str) -> None:
    """Wait until the session's relay has a keyframe to give."""

    async def ready() -> bool:
        relay = st.app.web_app[WHEP].hub.get(session_id)
        return relay is not None and relay.has_picture

    await until(ready, timeout=30, what="the relay to have a picture")
