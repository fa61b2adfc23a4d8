"""Helpers shared by the media tests: where ffmpeg and ffprobe are, ffprobe on a file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")
needs_ffmpeg = pytest.mark.skipif(
    FFMPEG is None or FFPROBE is None, reason="ffmpeg/ffprobe not installed (make deps-system)"
)


def probe(path: Path, *extra: str) -> dict[str, Any]:
    """ffprobe's JSON for a file."""
    assert FFPROBE is not None
    out = subprocess.run(
        [FFPROBE, "-v", "error", *extra, "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result
