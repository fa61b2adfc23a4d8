"""The caption console's pure times (web/static/js/cue_times.js), run in Node's V8 (the engine of
the Chromium the browser tests use): a cue's time from go-live as the .vtt writes it, and the
seconds typed to shift all lines."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from web.pages import STATIC_ROOT

MODULE = (STATIC_ROOT / "js" / "cue_times.js").as_uri()
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node (make deps-system)")


def call(function: str, *args: Any) -> Any:
    """``function(*args)`` of cue_times.js, evaluated by node, as JSON."""
    assert NODE is not None
    script = (
        f"import {{ {function} }} from {json.dumps(MODULE)};"
        f"console.log(JSON.stringify({function}(...{json.dumps(args)})));"
    )
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("ms", "zero", "shown"),
    [
        (1_000_003_500, 1_000_000_000, "00:00:03.500"),
        (1_000_000_000, 1_000_000_000, "00:00:00.000"),
        (1_000_000_000 + 3_725_042, 1_000_000_000, "01:02:05.042"),
        (1_000_000_000 - 700, 1_000_000_000, "-00:00:00.700"),
    ],
)
def test_a_cue_is_timed_from_go_live_like_the_vtt(ms: int, zero: int, shown: str) -> None:
    """HH:MM:SS.mmm after the zero (the download's clock); a cue before it gets a minus."""
    assert call("sinceStart", ms, zero) == shown


def test_the_zero_is_go_live_else_the_planned_start() -> None:
    """The downloads count from went_live_at; a session that never went live from starts_at."""
    went = {"went_live_at": "2026-05-20T07:00:02Z", "starts_at": "2026-05-20T07:00:00Z"}
    never = {"went_live_at": None, "starts_at": "2026-05-20T07:00:00Z"}
    assert call("recordingZeroMs", went) == 1_779_260_402_000
    assert call("recordingZeroMs", never) == 1_779_260_400_000


@pytest.mark.parametrize(
    ("typed", "ms"),
    [
        ("1.5", 1500),
        ("+2", 2000),
        ("-0.7", -700),
        (" 2,25 ", 2250),
        (".5", 500),
        ("3600", 3_600_000),
        ("-3600", -3_600_000),
        ("0", None),
        ("", None),
        ("abc", None),
        ("1e3", None),
        ("3600.001", None),
        ("1.2.3", None),
        ("--1", None),
    ],
)
def test_the_shift_is_read_in_seconds(typed: str, ms: int | None) -> None:
    """Seconds with a point or a comma and an optional sign; nothing, zero, or beyond the
    endpoint's hour either way is no shift (null)."""
    assert call("shiftMs", typed) == ms
