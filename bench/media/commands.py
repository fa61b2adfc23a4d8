"""Pure builders of the benchmark's subprocess argument lists and of Torget's config file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

_BASE = ("-hide_banner", "-nostdin", "-loglevel", "error")


def clip_args(ffmpeg: str, path: Path, height: int, seconds: int, bitrate: int) -> list[str]:
    """Encode a 16:9 test clip (moving pattern, 30 fps, a keyframe every second, no audio) to
    ``path``: the CPU runs publish it in a loop, so the publisher spends no CPU encoding video.
    Video only: a looped clip with its own audio jumps in time at every loop (AAC priming)."""
    width = height * 16 // 9
    width += width % 2
    return [
        ffmpeg, *_BASE, "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=30:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-bf", "0",
        "-b:v", str(bitrate), "-maxrate", str(bitrate), "-bufsize", str(2 * bitrate),
        "-an", str(path),
    ]  # fmt: skip


def loop_args(ffmpeg: str, clip: Path, url: str) -> list[str]:
    """Publish ``clip`` over RTMP in real time, looped, its video copied (not re-encoded),
    with a 440 Hz tone encoded to AAC alongside."""
    return [
        ffmpeg, *_BASE,
        "-re", "-stream_loop", "-1", "-i", str(clip),
        "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "128000",
        "-f", "flv", url,
    ]  # fmt: skip


def relay_args(ffmpeg: str, url: str) -> list[str]:
    """Read FLV on stdin (the stamped publisher) and push it unchanged to ``url``."""
    return [
        ffmpeg, *_BASE, "-fflags", "+nobuffer", "-f", "flv", "-i", "pipe:0",
        "-c", "copy", "-f", "flv", url,
    ]  # fmt: skip


def publisher_args(
    python: str, size: tuple[int, int], fps: int, gop: float, url: str = ""
) -> list[str]:
    """Run the stamped-clock publisher (``bench.media.publisher``) writing FLV to stdout, or
    publishing to the RTMP ``url`` itself."""
    width, height = size
    target = ["--url", url] if url else []
    return [
        python, "-m", "bench.media.publisher",
        "--size", f"{width}x{height}", "--fps", str(fps), "--gop", str(gop), *target,
    ]  # fmt: skip


def torget_args(python: str, config: Path) -> list[str]:
    """Run one Torget node with ``config``."""
    return [python, "-m", "torget", "serve", "--config", str(config)]


def _toml(value: object) -> str:
    # JSON strings, numbers, booleans and lists of numbers are valid TOML values.
    return json.dumps(value)


def torget_config(
    *,
    http_port: int,
    rtmp_port: int,
    store_url: str,
    data_dir: Path,
    ladder: Sequence[int],
    preset: str = "veryfast",
    slate: bool = False,
    interpretations: Sequence[str] = (),
) -> str:
    """A Torget config file for the benchmark: loopback ports, a private store and media
    directory, the given ladder (empty: the source passed through alone), no slate unless
    asked (the shipped configuration has one), the given interpretation languages."""
    sections: dict[str, dict[str, object]] = {
        "server": {"host": "127.0.0.1", "port": http_port},
        "store": {"url": store_url},
        "demo": {"load_on_first_start": False},
        "media": {
            "enabled": True,
            "data_dir": str(data_dir),
            "rtmp_host": "127.0.0.1",
            "rtmp_port": rtmp_port,
            "ladder_heights": list(ladder),
            "preset": preset,
            "slate": slate,
        },
        "interpretation": {"languages": list(interpretations)},
    }
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
        lines.append("")
    return "\n".join(lines)
