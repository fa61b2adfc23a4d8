"""The ffmpeg process adapter with a real ffmpeg: start, stdin, -progress, stderr, stopping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streaming.errors import FfmpegFailed, FfmpegNotStarted, FfmpegTimedOut
from streaming.ffmpeg_process import FfmpegProcess, run_ffmpeg
from tests.support.media_tools import FFMPEG

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(FFMPEG is None, reason="ffmpeg not installed (make deps-system)"),
]


def _ffmpeg() -> str:
    assert FFMPEG is not None
    return FFMPEG


async def test_a_program_that_cannot_start_is_a_streaming_error() -> None:
    """The OSError of a missing program becomes FfmpegNotStarted naming the program."""
    with pytest.raises(FfmpegNotStarted) as caught:
        await FfmpegProcess.start(["/nonexistent/ffmpeg", "-version"], label="test", what="x")
    assert caught.value.message.startswith("cannot start x (/nonexistent/ffmpeg): ")
    assert caught.value.reason == "No such file or directory"


async def test_stdin_feeds_ffmpeg_progress_is_reported_and_eof_ends_it(tmp_path: Path) -> None:
    """Bytes written to stdin reach the output; -progress blocks reach the listener; EOF lets
    ffmpeg finish and exit 0."""
    blocks: list[dict[str, str]] = []
    out = tmp_path / "copy.bin"
    args = [_ffmpeg(), "-nostats", "-progress", "pipe:1", "-f", "data", "-i", "pipe:0"]
    args += ["-map", "0", "-c", "copy", "-f", "data", str(out)]
    process = await FfmpegProcess.start(args, label="test", on_progress=blocks.append)
    try:
        assert process.pid is not None
        assert await process.write(b"x" * 10_000, within=5)
        await process.stop(within=10)
        await process.drained()
    finally:
        await process.close()
    assert process.returncode == 0
    assert process.pid is None
    assert out.read_bytes() == b"x" * 10_000
    assert blocks
    assert blocks[-1]["progress"] == "end"
    assert not await process.write(b"more")  # gone: nothing is written, nothing raised


async def test_a_lingering_ffmpeg_is_killed_and_reaped() -> None:
    """A process that does not exit after EOF is killed once the wait runs out."""
    args = [_ffmpeg(), "-nostdin", "-re", "-f", "lavfi", "-i", "anullsrc", "-f", "null", "-"]
    process = await FfmpegProcess.start(args, label="test")
    pid = process.pid
    assert pid is not None
    await process.stop(within=0.5)
    assert process.returncode is not None
    assert process.returncode < 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    await process.close()


async def test_a_run_to_completion_reports_failure_with_its_last_lines(tmp_path: Path) -> None:
    """A failed run says its exit code and its last stderr lines; a slow one times out."""
    with pytest.raises(FfmpegFailed) as caught:
        await run_ffmpeg(
            [_ffmpeg(), "-v", "error", "-i", str(tmp_path / "missing.mp4"), "-f", "null", "-"],
            label="test",
            within=20,
        )
    assert caught.value.code not in (0, None)
    assert "missing.mp4" in caught.value.message
    assert caught.value.message.startswith(f"ffmpeg failed ({caught.value.code}): ")
    with pytest.raises(FfmpegTimedOut):
        await run_ffmpeg(
            [_ffmpeg(), "-re", "-f", "lavfi", "-i", "anullsrc", "-f", "null", "-"],
            label="test",
            within=0.5,
        )
