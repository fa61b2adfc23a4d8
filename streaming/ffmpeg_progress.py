"""ffmpeg's ``-progress`` output read into blocks (pure; ``ffmpeg_process`` feeds it lines).

ffmpeg writes ``key=value`` lines and ends each block with ``progress=continue`` (or ``end``).
"""

from __future__ import annotations


class ProgressReader:
    """Collects ffmpeg's ``-progress`` lines into blocks; ``line`` returns a finished block."""

    def __init__(self) -> None:
        self._block: dict[str, str] = {}

    def line(self, text: str) -> dict[str, str] | None:
        """Take one line; return the block it completes, if it does."""
        key, sep, value = text.strip().partition("=")
        if not sep:
            return None
        self._block[key.strip()] = value.strip()
        if key.strip() != "progress":
            return None
        block, self._block = self._block, {}
        return block


def progress_bytes(block: dict[str, str]) -> int:
    """The bytes written so far according to a progress block (0 when not known)."""
    try:
        return max(0, int(block.get("total_size", "0")))
    except ValueError:
        return 0
