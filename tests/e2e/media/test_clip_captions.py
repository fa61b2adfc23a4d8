"""Clips with the session's captions burned in, end to end with real ffmpeg: a cue posted while
live shows in the clip's picture while it is up (the lower part of the frame differs from the
same clip cut without captions) and not after; a language with no cue in the clip cuts it
without; an unknown language is refused with the event's languages named."""

from __future__ import annotations

import asyncio
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.media.test_clips import clips_of, ready_clips
from tests.support.media_stage import (
    Stage,
    error_of,
    fetch,
    new_session,
    publisher,
    replay_published,
    stage,
    start_broadcast,
)
from tests.support.media_tools import FFMPEG, needs_ffmpeg
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_ffmpeg]

SIZE = 720  # a 1:1 clip of the 1280x720 publisher
CAPTION = "BURNED IN CAPTION LINE"
CUE_FROM, CUE_UNTIL = 1.0, 4.0  # seconds after going live (the recording's zero)
CHANGED = 60  # a grey level difference no re-encoding of the same picture comes near


def grey_frame(clip: Path, at: float) -> bytes:
    """The clip's frame at ``at`` s as 8-bit grey pixels, row by row."""
    assert FFMPEG is not None
    args = [FFMPEG, "-hide_banner", "-loglevel", "error", "-ss", f"{at:.3f}", "-i", str(clip)]
    args += ["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    frame = subprocess.run(args, check=True, capture_output=True, timeout=60).stdout
    assert len(frame) == SIZE * SIZE
    return frame


def changed_pixels(one: bytes, other: bytes, rows: range) -> int:
    """How many pixels of ``rows`` differ clearly between two grey frames."""
    start, end = rows.start * SIZE, rows.stop * SIZE
    return sum(abs(a - b) > CHANGED for a, b in zip(one[start:end], other[start:end], strict=True))


async def downloaded(st: Stage, clip: dict[str, Any], into: Path) -> Path:
    """Download a ready clip's MP4 into ``into``."""
    body, _ = await fetch(st, urlsplit(clip["mp4"]).path)
    await asyncio.to_thread(into.write_bytes, body)
    return into


async def test_captions_are_burned_into_a_clip(tmp_path: Path) -> None:
    """A Swedish cue 1..4 s after going live: the 1:1 clip of 0..6.5 s with Swedish captions
    shows it at 2.5 s (its lower fifth differs from the clip without captions, its upper part
    does not) and not at 5.8 s; English (no cue) is cut without; Klingon is refused."""
    async with stage(tmp_path, ladder=[], max_gop=1.0) as st:
        session_id, key = await new_session(st, "Burn in")
        path = f"/api/v1/sessions/{session_id}/clips"
        async with publisher(st.rtmp(key), gop=30):
            await start_broadcast(st, session_id)
            enough = time.monotonic() + 9.0  # 6.5 s recorded, with room for the pipeline
            session = await (await st.app.client.get(f"/api/v1/sessions/{session_id}")).json()
            live_at = datetime.fromisoformat(session["went_live_at"])  # the app's (fake) clock
            cue = {
                "text": CAPTION,
                "language": "sv",
                "start": (live_at + timedelta(seconds=CUE_FROM)).isoformat(),
                "end": (live_at + timedelta(seconds=CUE_UNTIL)).isoformat(),
            }
            answer = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/captions", json=cue, headers=st.app.admin
            )
            assert answer.status == 201, await answer.text()
            await until(lambda: time.monotonic() >= enough, timeout=30, what="9 s on air")
            answer = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/end", headers=st.app.admin
            )
            assert answer.status == 200

        await replay_published(st, session_id)
        answer = await clips_of(
            st, session_id, json={"in_seconds": 0, "out_seconds": 1, "captions": "tlh"}
        )
        assert await error_of(answer) == (
            422,
            "invalid_input",
            "captions: 'tlh' is not a caption language of this event (it captions in sv, en)",
        )
        made: dict[str | None, dict[str, Any]] = {}
        for language in ("sv", None, "en"):
            body: dict[str, Any] = {"in_seconds": 0, "out_seconds": 6.5, "aspects": ["1:1"]}
            if language is not None:
                body["captions"] = language
            answer = await st.app.client.post(path, json=body, headers=st.app.admin)
            assert answer.status == 202, await answer.text()
            (made[language],) = await answer.json()
        assert [made[k]["captions"] for k in ("sv", None, "en")] == ["sv", None, None]
        done = await ready_clips(st, session_id, {c["id"] for c in made.values()})
        assert [done[made[k]["id"]]["captions"] for k in ("sv", None, "en")] == ["sv", None, None]
        burned = await downloaded(st, done[made["sv"]["id"]], tmp_path / "burned.mp4")
        plain = await downloaded(st, done[made[None]["id"]], tmp_path / "plain.mp4")

    lower, upper = range(SIZE * 4 // 5, SIZE), range(0, SIZE * 3 // 5)
    shown = grey_frame(burned, 2.5), grey_frame(plain, 2.5)
    assert changed_pixels(*shown, lower) > 500
    assert changed_pixels(*shown, upper) < 50
    gone = grey_frame(burned, 5.8), grey_frame(plain, 5.8)
    assert changed_pixels(*gone, lower) < 50
