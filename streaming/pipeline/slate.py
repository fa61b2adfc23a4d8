"""The slate's own ffmpeg: a still picture with the session title (wrapped to fit:
``slate_layout``) and silence (MPEG-TS) written into a pipe that a pipeline run reads like an
ingest (``ffmpeg_args.slate_args``)."""

from __future__ import annotations

import asyncio
import math
import os
from dataclasses import dataclass
from pathlib import Path

from streaming.errors import FfmpegNotStarted
from streaming.ffmpeg_args import slate_args
from streaming.ffmpeg_process import DEVNULL, FfmpegProcess
from streaming.ladder import Rendition
from streaming.slate_layout import slate_layout
from streaming.vocab import SlateKind


@dataclass
class SlateLook:
    """How slates look: the event's branding (colours as ``0xrrggbb``, its name under the
    title). One holder per node, changed in place when the admin changes the branding."""

    background: str = "0x14213d"
    text: str = "0xffffff"
    name: str = ""

    def follow(self, background: str, text: str, name: str) -> None:
        """Take the branding's ``#rrggbb`` colours (empty: the built-in look) and name."""
        self.background = "0x" + background[1:] if background else "0x14213d"
        self.text = "0x" + text[1:] if text else "0xffffff"
        self.name = name


async def start_slate(
    directory: Path,
    video: Rendition,
    kind: SlateKind,
    title: str,
    *,
    ffmpeg: str,
    font: str | None,
    label: str,
    look: SlateLook | None = None,
) -> tuple[FfmpegProcess, int]:
    """Start the slate ffmpeg for ``video``'s size and rate writing MPEG-TS into a pipe: the
    process and the pipe's read end (the caller closes it once its reader has it)."""
    text = await asyncio.to_thread(directory.resolve) / "slate.txt"
    look = look or SlateLook()
    layout = slate_layout(kind, title, width=video.width, height=video.height, event=look.name)
    await asyncio.to_thread(text.write_text, layout.text, encoding="utf-8")
    args = slate_args(
        str(text),
        width=video.width,
        height=video.height,
        fps=max(1, min(120, math.ceil(video.fps - 1e-6))),
        fontfile=font,
        fontsize=layout.fontsize,
        background=look.background,
        fontcolor=look.text,
        ffmpeg=ffmpeg,
    )
    read_end, write_end = os.pipe()
    try:
        process = await FfmpegProcess.start(
            args, label=label, stdin=DEVNULL, stdout=write_end, tail_lines=0, what="the slate"
        )
    except FfmpegNotStarted:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    return process, read_end
