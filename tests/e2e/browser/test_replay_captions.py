"""Captions in a replay, in a real browser: the replay page's hls.js player lists the Swedish
subtitle rendition as a text track and puts the line captioned live where it was in the
broadcast."""

from __future__ import annotations

from pathlib import Path

import m3u8  # type: ignore[import-untyped]
import pytest

from tests.e2e.media.test_replay_captions import INTO_SEGMENT, SWEDISH, captioned_replay
from tests.support.browser import chromium, needs_chromium, open_page
from tests.support.media_stage import fetch, stage
from tests.support.media_tools import needs_ffmpeg
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_chromium, needs_ffmpeg]

TRACKS = """(() => [...document.getElementById('video').textTracks]
  .map((track) => track.language))()"""
CUE_START = """(line) => [...document.getElementById('video').textTracks]
  .filter((track) => track.language === 'sv' && track.cues)
  .flatMap((track) => [...track.cues].filter((cue) => cue.text === line))
  .map((cue) => cue.startTime)"""


async def test_the_replay_player_shows_the_swedish_line_where_it_was(tmp_path: Path) -> None:
    """A line captioned 0.3 s into a segment of the broadcast: in the replay page the player
    lists a Swedish text track; with Swedish chosen in its captions menu and the playhead near
    the line, the track's cue starts within 0.5 s of where the segment plays plus 0.3 s."""
    async with stage(tmp_path, ladder=[], max_gop=1.0) as st:
        made = await captioned_replay(st, size="640x360")
        hls = f"/hls/{made.session_id}"
        vod = m3u8.loads((await fetch(st, f"{hls}/source.m3u8"))[0].decode())
        uris = [segment.uri for segment in vod.segments]
        before = sum(segment.duration for segment in vod.segments[: uris.index(made.segment)])
        expected = before + INTO_SEGMENT

        async with chromium() as browser:
            viewer = await open_page(browser, f"http://127.0.0.1:{st.app.client.port}", "replay")
            page = viewer.page
            await page.goto(f"/s/{made.session_id}")

            async def swedish_listed() -> bool:
                return "sv" in await page.evaluate(TRACKS)

            await until(swedish_listed, timeout=20, what="a Swedish text track", interval=0.2)
            index = await page.evaluate(
                "[...document.getElementById('video').textTracks]"
                ".findIndex((track) => track.language === 'sv')"
            )
            await page.locator("#captions").select_option(str(index))
            await page.evaluate(
                "(at) => { document.getElementById('video').currentTime = at; }",
                max(0.0, expected - 0.5),
            )

            async def cue_starts() -> list[float] | None:
                found: list[float] = await page.evaluate(CUE_START, SWEDISH)
                return found or None

            starts = await until(cue_starts, timeout=20, what="the Swedish cue", interval=0.2)
            assert starts is not None
            assert len(starts) == 1, starts
            assert starts[0] == pytest.approx(expected, abs=0.5)
            viewer.assert_clean()
            await page.context.close()
