"""The hybrid hall and the studio channel in real headless Chromium against a real Torget: the
hall screen shows the question the moderator highlights and poll bars that move as a phone
votes through the join code; the channel's embed plays a replay, then the live session at its
start without a reload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.browser.test_journeys import World, assert_plays, current_time, world
from tests.support.browser import chromium, needs_chromium
from tests.support.media_stage import publisher
from tests.support.rooms import open_client
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.asyncio(loop_scope="module")]
PHONE = {"width": 390, "height": 844}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium shared by the module's tests (each test uses fresh contexts)."""
    async with chromium() as running:
        yield running


async def _text(page: Any, element_id: str) -> str:
    return str(await page.evaluate(f"document.getElementById('{element_id}').textContent"))


async def _fits(page: Any) -> bool:
    """Nothing is wider or taller than the screen, and the QR code and code are in view."""
    return bool(
        await page.evaluate(
            "(() => { const d = document.documentElement;"
            " const inView = (id) => { const r = document.getElementById(id)"
            ".getBoundingClientRect(); return r.width > 0 && r.top >= 0 && r.left >= 0"
            " && r.bottom <= innerHeight && r.right <= innerWidth; };"
            " return d.scrollWidth <= innerWidth && d.scrollHeight <= innerHeight"
            " && inView('qr') && inView('join-code') && inView('question-text'); })()"
        )
    )


async def test_the_hall_screen_shows_the_highlight_and_poll_bars_a_phone_moves(
    browser: Any, tmp_path: Path
) -> None:
    """The projector page shows the join code and its QR code; a phone-sized page opened at
    /j/<code> asks a question (the moderator sees it came from the hall) and votes in a poll;
    the screen shows the highlighted question and the bar of the phone's choice grow, and fits
    16:9 and 4:3 screens without scrolling."""
    async with world(tmp_path, browser, media=False) as w:
        created = await w.session("Hall debate", -1, 60)
        session_id = created["id"]
        await w.step(session_id, "live")
        screen = await w.open("hall-screen", viewport={"width": 1280, "height": 720})
        await screen.page.goto(f"/screen/{w.studio}")

        async def code_shown() -> str:
            code = await _text(screen.page, "join-code")
            return code if code.isdigit() else ""

        code = await until(code_shown, timeout=15, what="the join code on the screen")
        qr_drawn = "document.getElementById('qr').decode().then(() => true, () => false)"
        assert await until(lambda: screen.page.evaluate(qr_drawn), timeout=10, what="the QR code")

        async def titled() -> bool:
            return await _text(screen.page, "title") == "Hall debate"

        await until(titled, timeout=15, what="the session's title on the screen")

        phone = await w.open("hall-phone", viewport=PHONE, expected=r"/hls/")
        await phone.page.goto(f"/j/{code}")
        await phone.page.wait_for_selector("#ask:not([hidden])")
        moderator = await open_client(w.app, w.moderator)
        await moderator.request("j", type="join", room=session_id)
        await phone.page.fill("#ask-text", "Will the library open on Sundays?")
        await phone.page.click("#ask button[type=submit]")
        question = (await moderator.event("qa.question"))["question"]
        assert (question["text"], question["origin"]) == (
            "Will the library open on Sundays?",
            "hall",
        )
        for action in ("approve", "answering"):
            answer = await moderator.request(
                action, type="qa.moderate", room=session_id, question_id=question["id"],
                action=action,
            )  # fmt: skip
            assert answer["type"] == "ack", answer

        async def highlighted() -> bool:
            return bool(await _text(screen.page, "question-text") == question["text"])

        await until(highlighted, timeout=10, what="the highlighted question on the screen")
        opened = await moderator.request(
            "poll", type="poll.open", room=session_id, question="Sunday opening?",
            options=["Yes", "No"],
        )  # fmt: skip
        assert opened["type"] == "ack", opened
        bars = "[...document.querySelectorAll('.screen-bar')].map((b) => b.dataset.count)"

        async def poll_shown() -> bool:
            return bool(await screen.page.evaluate(bars) == ["0", "0"])

        await until(poll_shown, timeout=10, what="the poll's bars on the screen")
        await phone.page.check("#polls input[value='0']")
        await phone.page.click("#polls button[type=submit]")

        async def bar_moved() -> bool:
            return bool(await screen.page.evaluate(bars) == ["1", "0"])

        await until(bar_moved, timeout=10, what="the phone's vote on the screen's bars")
        width = "document.querySelector('.screen-bar-fill').style.width"
        assert await screen.page.evaluate(width) == "100%"
        assert await _fits(screen.page)
        await screen.shot("16x9")
        await screen.page.set_viewport_size({"width": 1024, "height": 768})
        await screen.shot("4x3")
        assert await _fits(screen.page)
        await moderator.ws.close()
        screen.assert_clean()
        phone.assert_clean()


async def test_the_channel_embed_plays_a_replay_then_the_live_session_without_a_reload(
    browser: Any, tmp_path: Path
) -> None:
    """With playout on, the embed plays the earlier session's replay; when the next session
    goes live the same player moves on to it (its segments are fetched) while the video's time
    keeps advancing, and the page is never reloaded."""
    async with world(tmp_path, browser, media=True) as w:
        first = await w.session("Morning", -30, -1)
        second = await w.session("Noon", 0, 60, auto_start=False)
        await _record(w, first)
        answer = await w.app.client.patch(
            f"/api/v1/studios/{w.studio}", json={"playout": True}, headers=w.app.admin
        )
        assert answer.status == 200
        embed = await w.open("channel-embed", expected=r"/hls/c/")
        fetched: list[str] = []
        embed.page.on("response", lambda response: fetched.append(response.url))
        await embed.page.goto(f"/embed/c/{w.studio}")
        await assert_plays(embed, 60)
        await embed.page.evaluate("window.__sameDocument = true")
        assert any(f"/hls/{first['id']}/" in url for url in fetched)
        before = await current_time(embed.page)
        async with publisher(f"rtmp://127.0.0.1:{w.rtmp_port}/live/{second['stream_key']}",
                             size="320x180", gop=15):  # fmt: skip

            async def ingest() -> bool:
                answer = await w.app.client.get(f"/api/v1/sessions/{second['id']}")
                return bool((await answer.json())["state"] == "ready")

            await until(ingest, timeout=30, what="the second session's ingest")
            await w.step(second["id"], "live")

            async def live_fetched() -> bool:
                return any(f"/hls/{second['id']}/" in url for url in fetched)

            await until(live_fetched, timeout=60, what="the player to fetch the live session")
            switched_at = await current_time(embed.page)

            async def carried_on() -> bool:
                return await current_time(embed.page) >= switched_at + 3.0

            await until(carried_on, timeout=30, what="the video to play on after the switch")
        assert await current_time(embed.page) > before + 3.0
        assert await embed.page.evaluate("window.__sameDocument === true")
        embed.assert_clean()


async def _record(w: World, session: dict[str, Any]) -> None:
    """Publish ``session`` for a few seconds, end it and wait for its replay."""
    async with publisher(f"rtmp://127.0.0.1:{w.rtmp_port}/live/{session['stream_key']}",
                         size="320x180", gop=15):  # fmt: skip

        async def state_is(wanted: str) -> bool:
            answer = await w.app.client.get(f"/api/v1/sessions/{session['id']}")
            return bool((await answer.json())["state"] == wanted)

        await until(lambda: state_is("ready"), timeout=30, what="the first session's ingest")
        await w.step(session["id"], "live")
        listed = f"/hls/{session['id']}/source.m3u8"

        async def recorded() -> bool:
            answer = await w.app.client.get(listed)
            return answer.status == 200 and (await answer.text()).count("#EXTINF") >= 8

        await until(recorded, timeout=40, what="eight seconds of the first session")
        await w.step(session["id"], "end")
    await until(lambda: state_is("replay"), timeout=90, what="the first session's replay")
