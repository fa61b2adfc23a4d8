"""A live publisher whose pictures carry the wall clock: ``python -m bench.media.publisher``.

Frames are made in real time (one every 1/fps seconds of the wall clock); each gets the time it
was made, in milliseconds, burned in as blocks (``bench.media.stamp``), is encoded with x264
(``zerolatency``, a keyframe every ``--gop`` seconds, no B-frames) next to silent AAC, and is
muxed to FLV on stdout, flushed packet by packet. The benchmark pipes that into
``ffmpeg -c copy -f flv rtmp://...`` (``commands.relay_args``): the RTMP publisher.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from fractions import Fraction
from typing import Any

import av

from bench.media import stamp

SAMPLE_RATE = 48_000
AUDIO_FRAME = 1024


def background(width: int, height: int) -> bytearray:
    """A grey luma plane with a gentle diagonal ramp (something for the encoder to code)."""
    rows = bytearray()
    for y in range(height):
        rows += bytes(60 + ((x + y) // 8) % 64 for x in range(width))
    return rows


def video_frame(
    luma: bytearray, chroma: bytes, width: int, height: int, value: int
) -> av.VideoFrame:
    """A YUV 4:2:0 frame of ``luma`` with ``value`` burned in."""
    frame = av.VideoFrame(width, height, "yuv420p")
    y_plane = frame.planes[0]
    if y_plane.line_size == width:
        picture = bytearray(luma)
    else:  # padded rows
        picture = bytearray(y_plane.buffer_size)
        for row in range(height):
            start = row * y_plane.line_size
            picture[start : start + width] = luma[row * width : (row + 1) * width]
    stamp.paint(picture, width, height, y_plane.line_size, value)
    y_plane.update(bytes(picture))
    for plane in frame.planes[1:]:
        plane.update(chroma[: plane.buffer_size])
    return frame


def publish(
    width: int, height: int, fps: int, gop: float, seconds: float, bitrate: int, url: str = ""
) -> None:
    """Make, encode and write stamped frames in real time for ``seconds`` (0: ever), to stdout
    or, with ``url``, straight to an RTMP server (connected before the first frame is made,
    as an encoder like OBS does)."""
    output: Any = av.open(url or "pipe:1", "w", format="flv", options={"flush_packets": "1"})
    video = output.add_stream(
        "libx264",
        rate=fps,
        options={
            "preset": "ultrafast",
            "tune": "zerolatency",
            "g": str(max(1, round(gop * fps))),
            "keyint_min": str(max(1, round(gop * fps))),
            "sc_threshold": "0",
            "bf": "0",
        },
    )
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    video.bit_rate = bitrate
    audio = output.add_stream("aac", rate=SAMPLE_RATE)
    audio.layout = "stereo"
    audio.bit_rate = 96_000
    luma = background(width, height)
    chroma = bytes([128]) * (width * height)
    silence_size = 0
    audio_pts = 0
    start = time.time()
    index = 0
    try:
        while not seconds or index < seconds * fps:
            due = start + index / fps
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            made = round(time.time() * 1000)
            frame = video_frame(luma, chroma, width, height, made)
            if not index:  # the viewer benchmark times the first picture from here
                print(f"first-frame {made}", file=sys.stderr, flush=True)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                output.mux(packet)
            # Silence up to this video frame's time, in whole AAC frames.
            while audio_pts <= index * SAMPLE_RATE // fps:
                sound = av.AudioFrame(format="fltp", layout="stereo", samples=AUDIO_FRAME)
                if not silence_size:
                    silence_size = sound.planes[0].buffer_size
                for plane in sound.planes:
                    plane.update(bytes(silence_size))
                sound.sample_rate = SAMPLE_RATE
                sound.pts = audio_pts
                sound.time_base = Fraction(1, SAMPLE_RATE)
                for packet in audio.encode(sound):
                    output.mux(packet)
                audio_pts += AUDIO_FRAME
            index += 1
        for stream in (video, audio):
            for packet in stream.encode(None):
                output.mux(packet)
    except (BrokenPipeError, av.FFmpegError):
        return  # the relay went away: the benchmark is over
    finally:
        with contextlib.suppress(BrokenPipeError, OSError, av.FFmpegError):
            output.close()


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and publish until done or terminated."""
    parser = argparse.ArgumentParser(prog="python -m bench.media.publisher")
    parser.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--gop", type=float, default=1.0, help="seconds between keyframes")
    parser.add_argument("--seconds", type=float, default=0.0, help="0: until terminated")
    parser.add_argument("--bitrate", type=int, default=2_500_000)
    parser.add_argument("--url", default="", help="publish to this RTMP URL (default: stdout)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x", 1))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    publish(width, height, args.fps, args.gop, args.seconds, args.bitrate, args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
