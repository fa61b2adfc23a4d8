"""Interaction timed to the picture in a real browser: an HLS viewer some seconds behind live
sees a highlighted question when their picture reaches the moment it was highlighted, well
after a WebRTC viewer, whose picture is at most a moment behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.support.browser import Watched, choose_latency, chromium, needs_chromium, open_page
from tests.support.media_stage import publisher, stage
from tests.support.realtime_client import WsClient
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.asyncio(loop_scope="module")]
QUESTION = "Hur når vi de unga?"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the module."""
    async with chromium() as running:
        yield running


async def _playing(watched: Watched, *, webrtc: bool) -> None:
    page = watched.page
    check = "v.currentTime > 1" + (" && v.srcObject !== null" if webrtc else "")

    async def playing() -> bool:
        return bool(
            await page.evaluate(
                f"(() => {{ const v = document.getElementById('video'); return {check}; }})()"
            )
        )

    await until(playing, timeout=40, what=f"{watched.name} to play", interval=0.25)


async def _shown_at(watched: Watched) -> float:
    """The monotonic time at which the page shows the highlighted question."""

    async def shown() -> bool:
        return bool(await watched.page.locator("#highlight-text").text_content() == QUESTION)

    await until(shown, timeout=20, what=f"{watched.name} to show the question", interval=0.05)
    return time.monotonic()


async def test_an_hls_viewer_sees_the_highlight_when_their_picture_gets_there(
    browser: Any, tmp_path: Path
) -> None:
    """The moderator highlights a question while an RTMP publisher is live; the WebRTC viewer
    shows it at once, the (classic) HLS viewer, about three segments behind live, at least
    2.5 s later; both show it."""
    async with stage(tmp_path, ladder=[]) as staged:
        app = staged.app
        now = datetime.now(UTC)
        app.clock.current = now
        body = {"studio_id": staged.studio, "title": "Timing", "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(), "auto_start": False}  # fmt: skip
        answer = await app.client.post("/api/v1/sessions", json=body, headers=app.admin)
        created = await answer.json()
        session_id = created["id"]
        async with publisher(staged.rtmp(created["stream_key"]), size="640x360", gop=30):
            live = await app.client.post(f"/api/v1/sessions/{session_id}/live", headers=app.admin)
            assert live.status == 200, await live.text()

            async def media_up() -> bool:
                return (await app.client.get(f"/hls/{session_id}/index.m3u8")).status == 200

            await until(media_up, timeout=30, what="the session's HLS", interval=0.25)
            base = f"http://127.0.0.1:{app.client.port}"
            hls = await open_page(browser, base, "timing-hls")
            whep = await open_page(browser, base, "timing-whep")
            await hls.page.goto(f"/s/{session_id}")
            await whep.page.goto(f"/s/{session_id}")
            # Classic HLS holds its viewer about three segments (~3 s) behind live.
            await choose_latency(hls.page, "standard")
            await choose_latency(whep.page, "lowest")
            await _playing(hls, webrtc=False)
            await _playing(whep, webrtc=True)
            await asyncio.sleep(0)  # both are playing: the moderator acts now
            moderator = WsClient(await app.client.ws_connect("/ws", headers=app.admin))
            await moderator.next()
            await moderator.request("j", type="join", room=session_id)
            await moderator.request("q", type="qa.ask", room=session_id, text=QUESTION)
            question = (await moderator.event("qa.question"))["question"]
            for action in ("approve", "answering"):
                await moderator.request(
                    action, type="qa.moderate", room=session_id, question_id=question["id"],
                    action=action,
                )  # fmt: skip
            whep_at, hls_at = await asyncio.gather(_shown_at(whep), _shown_at(hls))
            await moderator.ws.close()
            assert hls_at - whep_at >= 2.5, hls_at - whep_at
            for watched in (hls, whep):
                watched.assert_clean()
                await watched.page.context.close()
