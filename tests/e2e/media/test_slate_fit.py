"""A long session title stays inside the slate at every size: real ffmpeg draws the slate,
PyAV decodes its picture, and no text pixel lands in the margins."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import pytest

from streaming.ffmpeg_args import slate_args
from streaming.plane import DEJAVU
from streaming.slate_layout import SlateLayout, slate_layout
from streaming.vocab import SlateKind
from tests.support.media_tools import FFMPEG, needs_ffmpeg

SIZES = [(1920, 1080), (1280, 720), (854, 480), (640, 360), (426, 240), (256, 144)]
TITLES = {
    "words": "Opening: innovative municipalities that changed how they work with open data, "
    "citizens and the wider Nordic region, together",
    "wide letters": "WM" * 60,
    "one long word": "Kommunförbundets" * 8,
}
FONT = DEJAVU if Path(DEJAVU).is_file() else None  # the node's default slate font
BRIGHT = 128  # the text is white, the background dark navy (luma about 32)
EDGE = 0.02  # of the width and height: columns and rows next to the border stay clear


async def _first_picture(
    tmp_path: Path, layout: SlateLayout, width: int, height: int
) -> av.VideoFrame:
    text, out = tmp_path / f"slate-{width}.txt", tmp_path / f"slate-{width}.ts"
    await asyncio.to_thread(text.write_text, layout.text, encoding="utf-8")
    args = slate_args(
        str(text), width=width, height=height, fps=25, output=str(out), duration=0.2,
        realtime=False, fontfile=FONT,
        fontsize=layout.fontsize, ffmpeg=FFMPEG or "ffmpeg",
    )  # fmt: skip
    process = await asyncio.create_subprocess_exec(*args, stdin=asyncio.subprocess.DEVNULL)
    assert await process.wait() == 0
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
    return frame.reformat(format="gray")


def _bright(frame: av.VideoFrame) -> set[tuple[int, int]]:
    plane = frame.planes[0]
    data, stride = bytes(plane), plane.line_size
    return {
        (x, y)
        for y in range(frame.height)
        for x in range(frame.width)
        if data[y * stride + x] >= BRIGHT
    }


@pytest.mark.slow
@needs_ffmpeg
@pytest.mark.parametrize("title", TITLES.values(), ids=TITLES.keys())
@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{h}p" for _, h in SIZES])
async def test_a_long_title_stays_inside_the_slate(
    tmp_path: Path, title: str, width: int, height: int
) -> None:
    """Text is drawn (several lines' worth of pixels) and none of it touches the margins."""
    layout = slate_layout(SlateKind.BE_RIGHT_BACK, title, width=width, height=height)
    lines = layout.text.count("\n")
    assert lines >= 3  # the headline and a title that had to wrap
    frame = await _first_picture(tmp_path, layout, width, height)
    assert (frame.width, frame.height) == (width, height)
    bright = _bright(frame)
    assert len(bright) > width * height // 200, "the text is drawn"
    rows = {y for _, y in bright}
    assert max(rows) - min(rows) > (lines - 1) * layout.fontsize, "every line is drawn"
    edge_x, edge_y = max(1, round(width * EDGE)), max(1, round(height * EDGE))
    outside = [
        (x, y)
        for x, y in bright
        if x < edge_x or x >= width - edge_x or y < edge_y or y >= height - edge_y
    ]
    assert outside == [], f"{len(outside)} text pixels in the margin, e.g. {outside[:3]}"
