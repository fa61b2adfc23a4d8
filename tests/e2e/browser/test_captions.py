"""Live captions in a real browser: a captioner's line, sent while an RTMP publisher is live,
appears among the HLS viewer's active text-track cues, on the picture it was written for, and
among a WebRTC viewer's, which gets it over the websocket; the captioner writes in the caption
console while watching the programme over WebRTC."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.support.browser import (
    assert_accessible,
    caption_lines,
    choose_latency,
    chromium,
    needs_chromium,
    open_page,
    sign_in,
)
from tests.support.media_stage import publisher, stage
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.asyncio(loop_scope="module")]
LINE = "Välkomna till Kommunmässan"
ACTIVE_CUES = """(() => {
  const found = [];
  for (const track of document.getElementById('video').textTracks) {
    for (const cue of track.activeCues || []) found.push([track.language, cue.text]);
  }
  return found;
})()"""
LINE_CUE_IDS = """(line) => [...document.getElementById('video').textTracks]
  .filter((track) => track.language === 'sv' && track.cues)
  .flatMap((track) => [...track.cues].filter((cue) => cue.text === line).map((cue) => cue.id))"""
SUBTITLE_TRACKS = """(() => [...document.getElementById('video').textTracks]
  .map((track) => [track.language, track.kind, track.mode]))()"""


WEBRTC_PLAYS = (
    "(() => { const v = document.getElementById('video');"
    " return v.srcObject !== null && v.currentTime > 0.5; })()"
)


async def _webrtc_plays(page: Any, what: str) -> None:
    """Wait until the page's video plays a WebRTC stream."""

    async def plays() -> bool:
        return bool(await page.evaluate(WEBRTC_PLAYS))

    await until(plays, timeout=40, what=what, interval=0.25)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the module."""
    async with chromium() as running:
        yield running


async def test_a_captioners_line_shows_among_the_hls_viewers_active_cues(
    browser: Any, tmp_path: Path
) -> None:
    """The session is live from an RTMP publisher; the viewer's player lists the caption
    languages as text tracks and turns Swedish on in its captions menu; a captioner types a
    line in the caption console and presses Enter; the line becomes an active cue of the
    Swedish track while the video plays (the websocket's line standing in), and the rendition's
    own cue from the WebVTT segment, mapped onto the video's clock within 1.5 s of it, replaces
    it, so the line is there once."""
    async with stage(tmp_path, ladder=[]) as staged:
        app = staged.app
        now = datetime.now(UTC)
        app.clock.current = now  # the programme's clock is the pictures' clock in this test
        body = {"studio_id": staged.studio, "title": "Textad session",
                "starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat(),
                "auto_start": False}  # fmt: skip
        created = await (
            await app.client.post("/api/v1/sessions", json=body, headers=app.admin)
        ).json()
        session_id, key = created["id"], created["stream_key"]
        token = await (
            await app.client.post(
                "/api/v1/tokens",
                json={"role": "captioner", "name": "Textare", "studio_ids": [staged.studio]},
                headers=app.admin,
            )
        ).json()
        async with publisher(staged.rtmp(key), size="640x360", gop=30):
            live = await app.client.post(f"/api/v1/sessions/{session_id}/live", headers=app.admin)
            assert live.status == 200, await live.text()

            async def media_up() -> bool:
                answer = await app.client.get(f"/hls/{session_id}/index.m3u8")
                return answer.status == 200

            await until(media_up, timeout=30, what="the session's HLS", interval=0.25)
            top = await (await app.client.get(f"/hls/{session_id}/index.m3u8")).text()
            assert re.search(r'TYPE=SUBTITLES,GROUP-ID="subs",NAME="Svenska",LANGUAGE="sv"', top)

            base = f"http://127.0.0.1:{app.client.port}"
            viewer = await open_page(browser, base, "captions-viewer")
            page = viewer.page
            vtt: list[str] = []
            page.on("requestfinished", lambda request: vtt.append(request.url)
                    if request.url.split("?")[0].endswith(".sv.vtt") else None)  # fmt: skip
            await page.goto(f"/s/{session_id}")

            async def playing() -> bool:
                return bool(await page.evaluate("document.getElementById('video').currentTime > 1"))

            await until(playing, timeout=40, what="the video to play", interval=0.25)

            async def swedish_listed() -> bool:
                tracks = await page.evaluate(SUBTITLE_TRACKS)
                return any(language == "sv" for language, _, _ in tracks)

            await until(swedish_listed, timeout=10, what="a Swedish text track", interval=0.2)
            menu = page.locator("#captions")
            sv_index = await page.evaluate(
                "[...document.getElementById('video').textTracks]"
                ".findIndex((track) => track.language === 'sv')"
            )
            await menu.select_option(str(sv_index))

            # The captioner writes in the caption console, hearing and seeing the programme.
            captioner = await open_page(browser, base, "captions-console")
            cpage = captioner.page
            await cpage.goto("/caption")
            await sign_in(captioner, token["token"])
            # The picker is filled once the programme has loaded: wait for the session in it.
            await cpage.locator(f'#session option[value="{session_id}"]').wait_for(state="attached")
            assert await cpage.locator("#session").input_value() == session_id
            assert await cpage.locator("#caption-language").input_value() == "sv"
            await _webrtc_plays(cpage, "the console's programme")
            await assert_accessible(captioner)
            app.clock.current = datetime.now(UTC)
            await cpage.get_by_label("Caption line (Enter sends it)").fill(LINE)
            await cpage.get_by_label("Caption line (Enter sends it)").press("Enter")

            async def listed() -> bool:
                return any(text == LINE for _, text in await caption_lines(cpage))

            await until(listed, timeout=10, what="the line among the console's lines", interval=0.1)
            assert await cpage.get_by_label("Caption line (Enter sends it)").input_value() == ""
            await captioner.shot("sent")
            captioner.assert_clean()
            await cpage.context.close()

            async def shown() -> bool:
                return ["sv", LINE] in await page.evaluate(ACTIVE_CUES)

            await until(shown, timeout=20, what="the caption among the active cues", interval=0.1)
            await viewer.shot("caption-shown")

            async def from_the_rendition() -> list[str] | None:
                ids: list[str] = await page.evaluate(LINE_CUE_IDS, LINE)
                return ids if ids and not any(i.startswith("live-") for i in ids) else None

            # The websocket's line stood in until the WebVTT segment brought the rendition's own
            # cue: then the line is there once, from the rendition.
            ids: list[str] | None = await until(
                from_the_rendition, timeout=20, what="the rendition's cue alone"
            )
            assert ids is not None
            assert len(ids) == 1, ids
            assert vtt, "the player loaded no Swedish WebVTT segment"
            # The HLS viewer, Swedish chosen, moves to WebRTC: its choice carries over.
            await page.locator("#latency").select_option("lowest")
            await _webrtc_plays(page, "the HLS viewer's WebRTC picture")
            app.clock.current = datetime.now(UTC)
            third = {"text": "Nu via WebRTC", "language": "sv"}
            answer = await app.client.post(
                f"/api/v1/sessions/{session_id}/captions",
                json=third,
                headers={"Authorization": f"Bearer {token['token']}"},
            )
            assert answer.status == 201, await answer.text()

            async def carried_over() -> bool:
                return ["sv", third["text"]] in await page.evaluate(ACTIVE_CUES)

            await until(carried_over, timeout=10, what="the line after the move", interval=0.1)
            viewer.assert_clean()
            await page.context.close()

            # A WebRTC viewer: the line comes over the websocket and becomes a cue of a text
            # track of its own, at its picture's time; the caption size it chose is kept.
            whep = await open_page(browser, base, "captions-whep")
            wpage = whep.page
            await wpage.goto(f"/s/{session_id}")
            await choose_latency(wpage, "lowest")
            await _webrtc_plays(wpage, "the WebRTC picture")
            await wpage.locator("#caption-size").select_option("large")
            sent_at = datetime.now(UTC)
            app.clock.current = sent_at
            second = {"text": "Och välkomna online", "language": "sv",
                      "end": (sent_at + timedelta(seconds=8)).isoformat()}  # fmt: skip
            answer = await app.client.post(
                f"/api/v1/sessions/{session_id}/captions",
                json=second,
                headers={"Authorization": f"Bearer {token['token']}"},
            )
            assert answer.status == 201, await answer.text()

            async def whep_track() -> bool:
                tracks = await wpage.evaluate(SUBTITLE_TRACKS)
                return any(language == "sv" for language, _, _ in tracks)

            await until(whep_track, timeout=10, what="the WebRTC caption track", interval=0.1)
            index = await wpage.evaluate(
                "[...document.getElementById('video').textTracks]"
                ".findIndex((track) => track.language === 'sv')"
            )
            await wpage.locator("#captions").select_option(str(index))

            async def whep_shown() -> bool:
                return ["sv", second["text"]] in await wpage.evaluate(ACTIVE_CUES)

            await until(whep_shown, timeout=10, what="the WebRTC viewer's cue", interval=0.1)
            classes = await wpage.evaluate("document.getElementById('video').className")
            assert "captions-large" in classes
            await wpage.reload()

            async def remembered() -> bool:
                classes = await wpage.evaluate("document.getElementById('video').className")
                return "captions-large" in classes

            await until(remembered, timeout=10, what="the caption size kept", interval=0.1)
            assert await wpage.locator("#caption-size").input_value() == "large"
            await whep.shot("caption-whep")
            whep.assert_clean()
            await wpage.context.close()
