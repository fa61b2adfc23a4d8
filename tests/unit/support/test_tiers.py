"""The quick tier's guard knows what starts a server, ffmpeg or a browser, and what does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import tiers
from tests.support.tiers import ServerInQuickTier, server_started


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every program is installed, but those under /nonexistent."""
    monkeypatch.setattr(
        "shutil.which", lambda name: None if name.startswith("/nonexistent") else name
    )


@pytest.mark.parametrize(
    ("args", "started"),
    [
        (["/usr/bin/redis-server", "--port", "1"], "redis-server"),
        (["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/initdb", "-D", "d"],
         "PostgreSQL (initdb)"),
        (["/usr/lib/postgresql/15/bin/pg_ctl", "start", "-D", "d"], "PostgreSQL (pg_ctl start)"),
        (["/usr/bin/ffmpeg", "-i", "x"], "ffmpeg"),
        (["/venv/imageio_ffmpeg/binaries/ffmpeg-linux-x86_64-v7.0.2", "-version"], "ffmpeg"),
        (["/usr/bin/ffprobe", "x.mp4"], "ffprobe"),
        (["/usr/sbin/nginx", "-c", "n.conf"], "nginx"),
        (["/venv/playwright/driver/node", "cli.js", "run-driver"],
         "a browser (the Playwright driver)"),
    ],
)  # fmt: skip
@pytest.mark.usefixtures("installed")
def test_servers_ffmpeg_and_browsers_are_recognised(args: list[str], started: str) -> None:
    """Each program of the slow tier is named, however it is started."""
    assert server_started(args) == started


@pytest.mark.parametrize(
    "args",
    [
        ["/usr/lib/postgresql/15/bin/pg_ctl", "stop", "-D", "d", "-m", "immediate"],
        ["/usr/lib/postgresql/15/bin/dropdb", "t_1"],
        [sys.executable, "-m", "torget", "program", "export"],
        ["/usr/bin/convert", "ffmpeg.png"],
        ["/nonexistent/ffmpeg", "-version"],
        [],
    ],
)
@pytest.mark.usefixtures("installed")
def test_other_programs_and_stopping_a_server_are_allowed(args: list[str]) -> None:
    """Stopping PostgreSQL, its clients, Torget's own CLI, arguments that merely mention a
    server and a program that is not there are not starting one."""
    assert server_started(args) is None


def test_a_quick_test_that_starts_a_server_is_stopped(tmp_path: Path) -> None:
    """Starting ffmpeg from a test not marked slow raises before the program runs, and is
    noted for the test's report even when the error is caught (here, and taken back)."""
    ffmpeg = tmp_path / "ffmpeg"
    ffmpeg.write_text("#!/bin/sh\ntouch ran\n")
    ffmpeg.chmod(0o755)
    with pytest.raises(ServerInQuickTier) as caught:
        subprocess.run([str(ffmpeg), "-version"], cwd=tmp_path, check=False)
    assert not (tmp_path / "ran").exists()
    message = (
        "tests/unit/support/test_tiers.py::test_a_quick_test_that_starts_a_server_is_stopped "
        "starts ffmpeg but is not marked slow: mark it (or its module) with pytest.mark.slow, "
        "so that make test-fast stays quick"
    )
    assert str(caught.value) == message
    assert tiers.take_violations() == [message]
    assert tiers.take_violations() == []
