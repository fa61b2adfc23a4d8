"""WHEP viewers in a process of their own: ``python -m bench.webrtc.viewers URL COUNT``.

``COUNT`` aiortc peers post offers to ``URL`` (``http://host:port/whep/<session id>``), a few at
a time. Once all are connected the process prints ``ready <count>``; on SIGTERM (or stdin
closing) each viewer DELETEs its resource and the process prints one JSON line of what arrived.

By default the viewers do not decode or even reassemble frames (``install_counting_decoder``), so
that the viewers' own CPU does not starve the server being measured: they count RTP. With
``--stamps`` they decode and read the clock burned into each picture (``bench.media.stamp``)
and report glass-to-glass latencies in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from bench.media import stamp


@dataclass
class Counts:
    """What the viewers received."""

    video_frames: int = 0
    video_bytes: int = 0
    audio_frames: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    cpu: float = 0.0  # cores this process used while receiving


def install_counting_decoder(counts: Counts) -> None:
    """Make aiortc's receivers count RTP packets instead of reassembling and decoding frames
    (a frame is counted at each video packet with the marker bit). The RTP still arrives over
    ICE, DTLS and SRTP as for any viewer; only the work after that is skipped, so that one
    process can play a hundred viewers on a small machine."""
    from aiortc.rtcrtpreceiver import RTCRtpReceiver

    async def handle(self: Any, packet: Any, arrival_time_ms: int) -> None:
        if self.track is not None and self.track.kind == "video":
            counts.video_bytes += len(packet.payload)
            if packet.marker:
                counts.video_frames += 1
        else:
            counts.audio_frames += 1

    RTCRtpReceiver._handle_rtp_packet = handle  # type: ignore[method-assign]


async def _read(track: Any, counts: Counts, stamps: bool) -> None:
    try:
        while True:
            frame = await track.recv()
            if stamps and track.kind == "video":
                plane = frame.planes[0]
                value = stamp.read(bytes(plane), frame.width, frame.height, plane.line_size)
                if value is not None:
                    counts.latencies_ms.append(time.time() * 1000 - value)
    except MediaStreamError:
        return


async def connect(
    http: aiohttp.ClientSession, url: str, counts: Counts, stamps: bool, tasks: set[Any]
) -> tuple[RTCPeerConnection, str]:
    """One viewer: offer, answer, wait until connected; returns its peer and resource URL."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    connected = asyncio.Event()

    @pc.on("track")
    def on_track(track: Any) -> None:
        tasks.add(asyncio.create_task(_read(track, counts, stamps)))

    @pc.on("connectionstatechange")
    def on_state() -> None:
        if pc.connectionState == "connected":
            connected.set()

    await pc.setLocalDescription(await pc.createOffer())
    async with http.post(
        url, data=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}
    ) as answer:
        if answer.status != 201:
            await pc.close()
            raise RuntimeError(f"WHEP answered {answer.status}: {await answer.text()}")
        location = answer.headers["Location"]
        sdp = await answer.text()
    await pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
    await asyncio.wait_for(connected.wait(), 30)
    base = url.split("/whep/", 1)[0]
    return pc, base + location


async def run(url: str, count: int, stamps: bool, parallel: int) -> Counts:
    """Connect ``count`` viewers, say ``ready``, receive until told to stop, then leave."""
    counts = Counts()
    if not stamps:
        install_counting_decoder(counts)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    tasks: set[Any] = set()
    peers: list[tuple[RTCPeerConnection, str]] = []
    limit = asyncio.Semaphore(parallel)
    async with aiohttp.ClientSession() as http:

        async def one() -> None:
            async with limit:
                peers.append(await connect(http, url, counts, stamps, tasks))

        await asyncio.gather(*(one() for _ in range(count)))
        counts.video_frames = counts.video_bytes = counts.audio_frames = 0
        counts.latencies_ms.clear()
        print(f"ready {len(peers)}", flush=True)
        cpu_at_ready, clock_at_ready = time.process_time(), time.monotonic()
        if stamps:  # the first pictures are the GOP a joining viewer is given at once
            await asyncio.sleep(2)
            counts.latencies_ms.clear()
        await stop.wait()
        counts.cpu = (time.process_time() - cpu_at_ready) / (time.monotonic() - clock_at_ready)
        result = Counts(
            counts.video_frames,
            counts.video_bytes,
            counts.audio_frames,
            counts.latencies_ms,
            counts.cpu,
        )
        for pc, resource in peers:
            async with http.delete(resource):
                pass
            await pc.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the viewers, print the JSON result."""
    parser = argparse.ArgumentParser(prog="python -m bench.webrtc.viewers")
    parser.add_argument("url")
    parser.add_argument("count", type=int)
    parser.add_argument("--stamps", action="store_true", help="decode and read the clock")
    parser.add_argument("--parallel", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.monotonic()
    counts = asyncio.run(run(args.url, args.count, args.stamps, args.parallel))
    print(
        json.dumps(
            {
                "video_frames": counts.video_frames,
                "video_bytes": counts.video_bytes,
                "audio_frames": counts.audio_frames,
                "latencies_ms": counts.latencies_ms,
                "cpu": counts.cpu,
                "seconds": time.monotonic() - started,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
