"""ffmpeg's -progress output read into blocks, without a process."""

from __future__ import annotations

from streaming.ffmpeg_progress import ProgressReader, progress_bytes


def test_progress_blocks_are_collected_and_sizes_read() -> None:
    """A block ends at ``progress=``; its ``total_size`` is the bytes sent (0 when unknown)."""
    reader = ProgressReader()
    assert reader.line("frame=0\n") is None
    assert reader.line("total_size=N/A\n") is None
    block = reader.line("progress=continue\n")
    assert block == {"frame": "0", "total_size": "N/A", "progress": "continue"}
    assert progress_bytes(block) == 0
    assert reader.line("garbage without equals") is None
    reader.line("total_size=461027")
    block = reader.line("progress=end")
    assert block is not None
    assert progress_bytes(block) == 461027


def test_a_block_starts_empty_after_the_last_one_ended() -> None:
    """Keys of a finished block do not leak into the next one; spaces around keys and values
    are dropped."""
    reader = ProgressReader()
    reader.line("drop_frames=3")
    assert reader.line("progress=continue") == {"drop_frames": "3", "progress": "continue"}
    reader.line(" speed = 1.01x ")
    assert reader.line("progress=end") == {"speed": "1.01x", "progress": "end"}
