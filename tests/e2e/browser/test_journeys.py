"""The four user journeys of the product guide, walked in real headless Chromium against a real
Torget: the viewer's guide, player, chat and Q&A; the moderator's console; the operator's console
going live over RTMP (ffmpeg); the admin's report. Going live from the browser's fake camera
(WHIP) is in test_whip_journey.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.browser import (
    Watched,
    assert_accessible,
    chromium,
    needs_chromium,
    open_page,
    sign_in,
)
from tests.support.harness import FakeClock, RunningApp, running_app, settings_for, sqlite_url
from tests.support.media_stage import publisher
from tests.support.servers import free_port
from tests.support.waiting import WaitTimedOut, until
from web.keys import HUB, PROGRAMME

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.asyncio(loop_scope="module")]

XSS_CHAT = '<img src=x onerror="window.__xss=1">'
XSS_QUESTION = "<script>window.__xss=2</script><b>bold?</b>"
OPENING = "Opening: innovative municipalities"
NO_MEDIA = r"/hls/"  # without a media plane the player's playlist requests answer 404


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium shared by the module's tests (each test uses fresh contexts)."""
    async with chromium() as running:
        yield running


@dataclass
class World:
    """A running Torget with one studio, an operator and a moderator token for it."""

    app: RunningApp
    base: str
    studio: str
    operator: str
    moderator: str
    rtmp_port: int
    browser: Any
    opened: list[Watched] = field(default_factory=list)

    async def open(self, name: str, **options: Any) -> Watched:
        """A watched page in a fresh browser context, closed before the app stops."""
        watched = await open_page(self.browser, self.base, name, **options)
        self.opened.append(watched)
        return watched

    async def session(self, title: str, start: int, end: int, **extra: Any) -> dict[str, Any]:
        """Schedule a session from ``start`` to ``end`` minutes from now; return the answer."""
        now = datetime.now(UTC).replace(microsecond=0)
        body = {
            "studio_id": self.studio,
            "title": title,
            "starts_at": (now + timedelta(minutes=start)).isoformat(),
            "ends_at": (now + timedelta(minutes=end)).isoformat(),
            **extra,
        }
        answer = await self.app.client.post("/api/v1/sessions", json=body, headers=self.app.admin)
        assert answer.status == 201, await answer.text()
        created: dict[str, Any] = await answer.json()
        return created

    async def step(self, session_id: str, step: str) -> None:
        """Move a session through its lifecycle over the API (``live``, ``end``)."""
        answer = await self.app.client.post(
            f"/api/v1/sessions/{session_id}/{step}", headers=self.app.admin
        )
        assert answer.status == 200, await answer.text()


async def _token(app: RunningApp, role: str, studio: str) -> str:
    body = {"role": role, "name": f"{role} of the hall", "studio_ids": [studio]}
    answer = await app.client.post("/api/v1/tokens", json=body, headers=app.admin)
    assert answer.status == 201, await answer.text()
    return str((await answer.json())["token"])


@contextlib.asynccontextmanager
async def world(
    tmp_path: Path, browser: Any, *, media: bool, **more_env: str
) -> AsyncIterator[World]:
    """Start Torget (with RTMP on a free port when ``media``) on a real loopback port."""
    port = free_port()
    env = {"TORGET_MEDIA_ENABLED": "true" if media else "false"}
    if media:
        env |= {
            "TORGET_MEDIA_RTMP_PORT": str(port),
            "TORGET_MEDIA_DATA_DIR": str(tmp_path / "media"),
            "TORGET_MEDIA_PRESET": "ultrafast",
        }
    settings = settings_for(sqlite_url(tmp_path), **env, **more_env)
    settings.media.ladder_heights = [240]  # one small rendition: the machine is shared
    clock = FakeClock(datetime.now(UTC))
    async with running_app(settings, clock) as app:
        answer = await app.client.post(
            "/api/v1/studios", json={"name": "Stora scenen"}, headers=app.admin
        )
        studio = (await answer.json())["id"]
        staged = World(
            app=app,
            base=str(app.client.make_url("/")).rstrip("/"),
            studio=studio,
            operator=await _token(app, "operator", studio),
            moderator=await _token(app, "moderator", studio),
            rtmp_port=port,
            browser=browser,
        )
        try:
            yield staged
        finally:
            for watched in staged.opened:  # their websockets would hold the shutdown up
                await watched.page.context.close()


async def current_time(page: Any) -> float:
    """The player's position in seconds."""
    return float(await page.evaluate("document.getElementById('video').currentTime"))


async def hls_state(w: World, session_id: str) -> str:
    """The session's playlists as the server answers them now (for failure messages)."""
    client = w.app.client
    top = await client.get(f"/hls/{session_id}/index.m3u8")
    text = await top.text()
    names = [line for line in text.splitlines() if line and not line.startswith("#")]
    media = ""
    if names:
        answer = await client.get(f"/hls/{session_id}/{names[0]}")
        media = (await answer.text())[-1500:]
    return f"{top.status}\n{text}\n---\n{media}"


async def assert_plays(
    watched: Watched,
    seconds: float = 60,
    *,
    w: World | None = None,
    session_id: str = "",
    sustained: bool = True,
) -> None:
    """The video element's time advances (so frames are being decoded and shown).

    Polled with ``evaluate`` (``wait_for_function`` would need eval, which the pages' CSP
    forbids, as it should)."""
    page = watched.page

    async def started() -> float:
        return played if (played := await current_time(page)) > 0.5 else 0.0

    try:
        first = await until(started, timeout=seconds, what="the video to start", interval=0.25)
    except WaitTimedOut:
        await watched.shot("never-started")
        state = await page.evaluate(
            "(() => { const v = document.getElementById('video');"
            " return [v.readyState, v.networkState, v.error && v.error.message,"
            " document.getElementById('player-status').textContent]; })()"
        )
        served = await hls_state(w, session_id) if w is not None else ""
        raise AssertionError(f"the video never started: {state}\n{served}") from None
    if not sustained:
        return

    async def advanced() -> bool:
        return await current_time(page) >= first + 1.0

    await until(advanced, timeout=20, what="the video to keep advancing", interval=0.25)


async def test_viewer_finds_the_live_session_chats_asks_and_text_stays_text(
    browser: Any, tmp_path: Path
) -> None:
    """Journey 2: the guide shows what is live and next per studio and filters by language,
    marks a session that never went live as not having taken place (no "next", no replay);
    chat and questions carrying HTML show as text, drafts survive a reload, and a message
    typed while the connection is down is sent once it is back."""
    from playwright.async_api import expect

    async with world(tmp_path, browser, media=False) as w:
        missed = await w.session("Morning coffee", -120, -90, language="en")
        await w.step(missed["id"], "end")  # its slot passed without it going live
        late = await w.session("Slot over, never started", -60, -10, language="en")
        live = await w.session(OPENING, -5, 40, language="sv")
        await w.session("Next up: schools", 50, 90, language="en")
        await w.step(live["id"], "live")
        viewer = await w.open(
            "viewer", expected=NO_MEDIA, console=r"WebSocket connection to .* failed"
        )
        page = viewer.page
        blip = asyncio.Event()

        async def gate(socket: Any) -> None:
            """Pass websockets through, or refuse them while the blip lasts."""
            if blip.is_set():
                await socket.close(code=1012, reason="network blip")
            else:
                socket.connect_to_server()

        await page.route_web_socket(re.compile(r"/ws$"), gate)
        await page.goto("/")
        now = page.locator("#now")
        await expect(now).to_contain_text(OPENING)
        await expect(now).to_contain_text("Next up: schools")
        await expect(now).not_to_contain_text("Slot over")
        # The guide opens on today; two hours ago may be yesterday (a run soon after midnight).
        await page.locator("#f-day").select_option("")
        for title in ("Morning coffee", "Slot over, never started"):
            past = page.locator("#programme li", has_text=title)
            await expect(past.locator(".badge")).to_have_text("did not take place")
        await expect(page.locator("#replays")).to_have_text("No replays yet.")
        del late
        await page.locator("#f-language").select_option("en")
        programme = page.locator("#programme")
        await expect(programme).to_contain_text("Next up: schools")
        await expect(programme).not_to_contain_text(OPENING)
        await viewer.shot("guide")
        await assert_accessible(viewer)

        await now.get_by_role("link", name=re.compile("Opening")).click()
        await expect(page.locator("#title")).to_have_text(OPENING)
        await expect(page.locator("#rt-status")).to_have_text("Connected")
        await expect(page.locator("#viewers")).to_have_text("1")
        await page.locator("#chat-name").fill("Eva <b>")
        await page.locator("#chat-name").dispatch_event("change")
        await page.locator("#chat-text").fill(XSS_CHAT)
        await page.locator("#chat-text").press("Enter")
        message = page.locator("#chat li").last
        await expect(message.locator(".text")).to_have_text(XSS_CHAT)
        await expect(message.locator(".who")).to_have_text("Eva <b>")
        await expect(page.locator("#chat-text")).to_have_value("")

        await page.locator("#ask-text").fill(XSS_QUESTION)
        await page.get_by_role("button", name="Ask", exact=True).click()
        await expect(page.locator("#ask .status")).to_contain_text("moderator approves")
        assert missed["id"] != live["id"]
        mine = page.locator("#questions li").first
        await expect(mine.locator(".text")).to_have_text(XSS_QUESTION)
        await expect(mine.locator(".badge")).to_have_text("awaiting moderation")
        assert await page.evaluate("window.__xss") is None
        assert await page.locator("#chat img, #questions b, #questions script").count() == 0

        await page.locator("#chat-text").fill("half a thought")
        await page.reload()
        await expect(page.locator("#chat-text")).to_have_value("half a thought")
        await expect(page.locator("#chat li .text").first).to_have_text(XSS_CHAT)

        # A network blip: the server drops the socket and reconnecting fails for a while.
        blip.set()
        for conn in list(w.app.web_app[HUB].connections):
            conn.shut_down()
        await expect(page.locator("#rt-status")).to_contain_text("reconnecting")
        await page.locator("#chat-text").fill("sent while offline")
        await page.locator("#chat-text").press("Enter")
        await expect(page.locator("#chat-form .status")).to_contain_text("Offline")
        await expect(page.locator("#chat-text")).to_have_value("sent while offline")
        blip.clear()
        await page.evaluate("window.dispatchEvent(new Event('online'))")  # the network is back
        await expect(page.locator("#rt-status")).to_have_text(
            "Reconnected. Nothing was missed.", timeout=20_000
        )
        await expect(page.locator("#chat li .text").last).to_have_text("sent while offline")
        await expect(page.locator("#chat-text")).to_have_value("")
        await viewer.shot("session")
        await assert_accessible(viewer)
        viewer.assert_clean()

        phone = await w.open(
            "phone", viewport={"width": 390, "height": 844}, is_mobile=True, expected=NO_MEDIA
        )
        await phone.page.goto(f"/s/{live['id']}")
        await expect(phone.page.locator("#chat li .text").first).to_have_text(XSS_CHAT)
        await phone.shot("session")
        await assert_accessible(phone)
        await phone.page.goto("/")
        await expect(phone.page.locator("#now")).to_contain_text(OPENING)
        await phone.shot("guide")
        await assert_accessible(phone)
        phone.assert_clean()


async def test_interface_speaks_the_browser_language_and_remembers_a_switch(
    browser: Any, tmp_path: Path
) -> None:
    """A Swedish browser gets Swedish; switching to Finnish is remembered across pages (the
    session page says when the session starts); the guide shows it going live as it happens."""
    from playwright.async_api import expect

    async with world(tmp_path, browser, media=False) as w:
        later = await w.session(OPENING, 30, 60)
        viewer = await w.open("i18n", locale="sv-SE", expected=NO_MEDIA)
        page = viewer.page
        await page.goto("/")
        await expect(page.locator("#now-h")).to_have_text("Direkt nu")
        assert await page.evaluate("document.documentElement.lang") == "sv"
        await page.locator("#lang").select_option("fi")
        await expect(page.locator("#now-h")).to_have_text("Nyt suorana")
        await page.goto(f"/s/{later['id']}")
        await expect(page.locator("#offair-text")).to_contain_text("Alkaa")  # not live yet
        await page.goto("/")
        await expect(page.locator("#rt-status")).to_have_text("Yhdistetty")
        await w.step(later["id"], "live")  # the guide follows the programme without a reload
        await expect(page.locator("#now .live-dot")).to_have_text("suorana")
        await page.goto("/studio")
        await expect(page.locator("#signin h1")).to_have_text("Kirjaudu sisään")
        await viewer.shot("finnish")
        viewer.assert_clean()


async def test_an_event_with_an_access_code_lets_viewers_in_with_the_code(
    browser: Any, tmp_path: Path
) -> None:
    """When the event asks for a code, the guide asks for it, refuses a wrong one in words and
    with the right one shows the programme and takes part over the websocket, presenting the
    viewer pass in the websocket's first frame."""
    from playwright.async_api import expect

    async with world(tmp_path, browser, media=False, TORGET_EVENT_ACCESS_CODE="fair2026") as w:
        live = await w.session(OPENING, -5, 40)
        await w.step(live["id"], "live")
        viewer = await w.open("access", expected=r"/api/v1/program$|/api/v1/auth/viewer$|/hls/")
        page = viewer.page
        await page.goto("/")
        form = page.locator("#access")
        await expect(form).to_be_visible()
        await form.get_by_label("Access code").fill("wrong")
        await form.get_by_role("button", name="Enter").click()
        await expect(form.locator(".status")).to_have_text("the access code is not right")
        await form.get_by_label("Access code").fill("fair2026")
        await form.get_by_role("button", name="Enter").click()
        await expect(form).to_be_hidden()
        first_frames: list[str] = []

        def watch_socket(socket: Any) -> None:
            socket.on("framesent", lambda payload: first_frames.append(str(payload)))

        page.on("websocket", watch_socket)
        await expect(page.locator("#now")).to_contain_text(OPENING)
        await expect(page.locator("#rt-status")).to_have_text("Connected")
        await page.goto(f"/s/{live['id']}")
        # The pass goes in the websocket's first frame (a framed player may not send cookies).
        await expect(page.locator("#rt-status")).to_have_text("Connected")
        assert first_frames, "no websocket frame was sent"
        first = json.loads(first_frames[0])
        assert first["type"] == "hello"
        assert first["viewer_pass"]
        await page.locator("#chat-text").fill("in with the code")
        await page.locator("#chat-text").press("Enter")
        await expect(page.locator("#chat li .text").last).to_have_text("in with the code")
        await viewer.shot("access-code")
        viewer.assert_clean()


async def test_moderator_runs_the_qa_polls_and_chat_that_viewers_see(
    browser: Any, tmp_path: Path
) -> None:
    """Journey 3: a question goes from pending to approved, highlighted (viewers see it) and
    answered; a chat message is deleted, its author muted, slow mode and a poll reach the
    viewer, and the audit log lists what the moderator did."""
    from playwright.async_api import expect

    async with world(tmp_path, browser, media=False) as w:
        live = await w.session(OPENING, -5, 40)
        await w.step(live["id"], "live")
        room = live["id"]
        viewer = await w.open("qa-viewer", expected=NO_MEDIA)
        moderator = await w.open("moderator", expected=NO_MEDIA)
        vpage, mpage = viewer.page, moderator.page
        await vpage.goto(f"/s/{room}")
        await expect(vpage.locator("#rt-status")).to_have_text("Connected")
        await vpage.locator("#ask-text").fill("What does broadband cost per household?")
        await vpage.get_by_role("button", name="Ask", exact=True).click()
        await expect(vpage.locator("#ask .status")).to_contain_text("moderator approves")

        await mpage.goto(f"/moderate?session={room}")
        await sign_in(moderator, w.moderator)
        pending = mpage.locator("#pending li", has_text="broadband")
        await expect(pending).to_be_visible()
        await expect(mpage.locator("#pending-count")).to_have_text("1")
        await pending.get_by_role("button", name="Approve").focus()
        await mpage.keyboard.press("Enter")  # by keyboard: focus stays with the question
        approved = mpage.locator("#approved li", has_text="broadband")
        await expect(approved).to_be_visible()
        await expect(vpage.locator("#ask .status")).to_have_text("")  # approved: no longer waits
        await expect(
            approved.get_by_role("button", name="Highlight: answering now")
        ).to_be_focused()

        public = vpage.locator("#questions li", has_text="broadband")
        await expect(public.locator(".badge")).to_have_count(0)  # approved: no status badge
        await public.locator("button.vote").click()
        await expect(approved.locator(".votes")).to_have_text("▲ 1")
        await approved.get_by_role("button", name="Highlight: answering now").click()
        await expect(vpage.locator("#highlight")).to_be_visible()
        await expect(vpage.locator("#highlight-text")).to_have_text(
            "What does broadband cost per household?"
        )
        await viewer.shot("highlighted")
        await moderator.shot("highlighting")
        await (
            mpage.locator("#approved li", has_text="broadband")
            .get_by_role("button", name="Answered")
            .click()
        )
        await expect(vpage.locator("#highlight")).to_be_hidden()
        await expect(mpage.locator("#answered li", has_text="broadband")).to_be_visible()

        # the poll first: a muted viewer (below) may not vote
        await mpage.locator("#poll-q").fill("Which topic next?")
        await mpage.locator("#poll-o").fill("Schools\nRoads")
        await mpage.get_by_role("button", name="Open poll").click()
        poll = vpage.locator("#polls form")
        await expect(poll.locator("legend")).to_have_text("Which topic next?")
        await poll.get_by_label("Schools").check()
        await poll.get_by_role("button", name="Vote").click()
        await expect(poll).to_contain_text("Thanks for voting.")
        await expect(mpage.locator("#polls")).to_contain_text("Schools: 1")

        await vpage.locator("#chat-name").fill("Troll")
        await vpage.locator("#chat-name").dispatch_event("change")
        await vpage.locator("#chat-text").fill("buy cheap watches")
        await vpage.locator("#chat-text").press("Enter")
        spam = mpage.locator("#chat li", has_text="buy cheap watches")
        await spam.get_by_role("button", name="Delete").click()
        await expect(vpage.locator("#chat li", has_text="buy cheap watches")).to_have_count(0)
        await vpage.locator("#chat-text").fill("again and again")
        await vpage.locator("#chat-text").press("Enter")
        await (
            mpage.locator("#chat li", has_text="again and again")
            .get_by_role("button", name="Mute 10 min")
            .click()
        )
        await expect(mpage.locator("#mod-status")).to_have_text("Done.")
        await vpage.locator("#chat-text").fill("can I still talk?")
        await vpage.locator("#chat-text").press("Enter")
        await expect(vpage.locator("#chat-form .status")).to_contain_text("muted")
        await expect(vpage.locator("#chat-text")).to_have_value("can I still talk?")

        await mpage.locator("#slow-mode").select_option("30")
        await expect(vpage.locator("#slow-mode")).to_have_text(
            "Slow mode: one message every 30 seconds."
        )

        await mpage.get_by_role("button", name="Refresh").click()
        audit = mpage.locator("#audit")
        for action in ("qa.approve", "chat.delete", "chat.mute", "chat.slow_mode",
                       "poll.open"):  # fmt: skip
            await expect(audit).to_contain_text(f"moderator of the hall: {action}")
        # The moderator's console is staff: one viewer watches, one staff connection is apart.
        await expect(mpage.locator("#viewers")).to_have_text("1")
        await expect(mpage.locator("#staff")).to_have_text("1")
        await expect(vpage.locator("#viewers")).to_have_text("1")
        await moderator.shot("console")
        await assert_accessible(moderator)
        viewer.assert_clean()
        moderator.assert_clean()


async def test_operator_goes_live_over_rtmp_and_a_viewer_watches_and_chats(
    browser: Any, tmp_path: Path
) -> None:
    """Journey 1 with OBS's path and journey 2's player: the operator creates the session in
    the console, adds and removes a restream destination, an RTMP publisher (ffmpeg) uses the
    URL and key the page shows, the console shows ingest health, the operator starts the
    broadcast, a viewer's video plays at a chosen quality, in low latency and in the embed
    player; after the end the same page plays the replay."""
    from playwright.async_api import expect

    async with world(tmp_path, browser, media=True) as w:
        operator = await w.open("operator-rtmp", timezone_id="Europe/Stockholm")
        page = operator.page
        await page.goto("/studio")
        await sign_in(operator, w.operator)
        form = page.locator("#session-form")
        start = datetime.now(UTC).astimezone() + timedelta(minutes=1)
        await form.locator("#f-title").fill(OPENING)
        await form.locator("input[name=start]").fill("09:00")
        await form.locator("input[name=end]").fill("09:45")
        await form.get_by_role("button", name="Create session").click()
        await expect(page.locator("#panel-h")).to_have_text(OPENING)
        await expect(page.locator("#state")).to_have_text("scheduled")
        await expect(page.locator("#rtmp-url")).to_have_value(
            f"rtmp://127.0.0.1:{w.rtmp_port}/live/"
        )
        rtmp = await page.locator("#rtmp-url").input_value()
        key = await page.locator("#stream-key").input_value()
        assert rtmp == f"rtmp://127.0.0.1:{w.rtmp_port}/live/"
        assert key.startswith("sk_")
        del start
        session_id = page.url and (await page.locator("#viewer-link").get_attribute("href"))
        assert session_id is not None
        session_id = session_id.rsplit("/", 1)[1]
        restreams = page.locator("#restreams")
        await page.get_by_label("Name").fill("Kommunens Facebook")
        await page.get_by_label("RTMP URL with key").fill("rtmp://127.0.0.1:9/live/fb-secret")
        await page.get_by_role("button", name="Add destination").click()
        await expect(restreams.locator("li")).to_have_count(1)
        await expect(restreams).to_contain_text("Kommunens Facebook")
        await restreams.get_by_role("button", name="Remove").click()
        await expect(restreams.locator("li")).to_have_count(0)
        async with publisher(rtmp + key, size="640x360", gop=30):
            await expect(page.locator("#state")).to_have_text("ready", timeout=30_000)
            health = page.locator("#health")
            await expect(health).to_contain_text("640\u00d7360", timeout=20_000)
            await expect(health).to_contain_text("RTMP")
            await page.get_by_role("button", name="Start broadcast").click()
            await expect(page.locator("#state")).to_have_text("live")
            await page.get_by_role("button", name="+10 min").click()
            await expect(page.locator("#panel-status")).to_contain_text("Extended: now ends")
            await operator.shot("live")
            await assert_accessible(operator)

            viewer = await w.open("watcher")
            vpage = viewer.page
            requested: list[str] = []
            vpage.on("request", lambda request: requested.append(request.url))
            await vpage.goto(f"/s/{session_id}")
            await assert_plays(viewer)
            # The player names its websocket's viewer id, so this viewer counts once.
            assert any("/hls/" in url and "v=vwr_" in url for url in requested), requested[-5:]
            # Automatic, the 240p rendition and the 360p source passed through.
            await expect(vpage.locator("#quality option")).to_have_text(
                ["Automatic", "240p", "360p"]
            )
            await vpage.locator("#quality").select_option(label="240p")
            await vpage.wait_for_timeout(500)
            await assert_plays(viewer)
            # The default is LL-HLS; "Lowest": WebRTC (WHEP) when the server has room, else the
            # page says so and stays on LL-HLS. Either way the video plays.
            await expect(vpage.locator("#video")).to_have_attribute("data-playback", "llhls")
            await vpage.get_by_label("Latency").select_option("lowest")
            await expect(vpage.locator("#video")).to_have_js_property(
                "readyState", 4, timeout=20_000
            )
            whep, said = await vpage.evaluate(
                "[document.getElementById('video').srcObject !== null,"
                " document.getElementById('player-status').textContent]"
            )
            assert whep or said.startswith("The lowest latency is not available right now"), said
            await assert_plays(viewer)
            await viewer.shot("low-latency")
            await vpage.get_by_label("Latency").select_option("low")
            await assert_plays(viewer)
            await vpage.locator("#chat-text").fill("Hej från publiken")
            await vpage.locator("#chat-text").press("Enter")
            await expect(vpage.locator("#chat li .text").last).to_have_text("Hej från publiken")
            await viewer.shot("playing")

            embed = await w.open("embed")
            await embed.page.goto(f"/embed/{session_id}")
            await assert_plays(embed)
            await embed.shot("playing")

            await page.get_by_role("button", name="End broadcast").click()
            await expect(page.locator("#state")).to_have_text(re.compile("ended|replay"))
        # Later the viewer watches the replay: the same page turns to the recording.
        await expect(page.locator("#state")).to_have_text("replay", timeout=60_000)
        await expect(vpage.locator("#meta")).to_contain_text("replay", timeout=20_000)
        await assert_plays(viewer)
        await viewer.shot("replay")
        viewer.assert_clean()
        embed.assert_clean()
        operator.assert_clean()


def hundred_sessions() -> str:
    """A programme file of 100 sessions in three studios over two days (YAML)."""
    lines = ["timezone: Europe/Stockholm", "sessions:"]
    studios = ("Stora scenen", "Studio Norr", "Partnerkanalen")
    for i in range(100):
        day, slot = divmod(i // 3, 17)
        hour, half = divmod(slot, 2)
        start = f"2026-05-{20 + day} {8 + hour:02d}:{30 * half:02d}"
        end = f"2026-05-{20 + day} {8 + hour:02d}:{30 * half + 25:02d}"
        lines += [
            f"  - studio: {studios[i % 3]}",
            f'    title: "Session {i + 1}: <em>local</em> democracy"',
            f"    starts_at: {start}",
            f"    ends_at: {end}",
            f"    language: {('sv', 'fi', 'nb', 'en')[i % 4]}",
        ]
    return "\n".join(lines) + "\n"


async def test_admin_imports_a_programme_and_gives_moderators_access(
    browser: Any, tmp_path: Path
) -> None:
    """Journey 4, before the event: the admin imports a hundred sessions from a file, sees the
    new studios, issues a moderator token for one studio (shown once) that then works, and
    revokes it: the moderator's open console asks to sign in again, and takes another
    token."""
    from playwright.async_api import expect

    async with world(tmp_path, browser, media=False) as w:
        admin = await w.open("admin")
        page = admin.page
        await page.goto("/admin")
        await sign_in(admin, w.app.admin_token)
        await page.get_by_label("Programme file").set_input_files(
            files=[
                {
                    "name": "fair.yaml",
                    "mimeType": "application/yaml",
                    "buffer": hundred_sessions().encode(),
                }
            ]
        )
        await page.get_by_role("button", name="Import", exact=True).click()
        await expect(page.locator("#import-form .status")).to_have_text(
            "Imported: 100 sessions created, 0 updated, 2 new studios."
        )
        await expect(page.locator("#studios li")).to_have_count(3)
        form = page.locator("#token-form")
        await form.get_by_label("Role").select_option("moderator")
        await form.get_by_label("Name", exact=True).fill("Moderator Norr")
        await form.get_by_label("Studio Norr").check()
        await form.get_by_role("button", name="Issue token").click()
        await expect(page.locator("#new-token-value")).to_have_value(re.compile("^tgt_"))
        secret = await page.locator("#new-token-value").input_value()
        assert secret.startswith("tgt_")
        row = page.locator("#tokens tbody tr", has_text="Moderator Norr")
        await expect(row).to_contain_text("Studio Norr")
        await admin.shot("imported")
        await assert_accessible(admin)

        moderator = await w.open("norr-moderator")
        await moderator.page.goto("/moderate")
        await sign_in(moderator, secret)
        options = moderator.page.locator("#session option")
        await expect(options).to_have_count(33)  # the sessions of Studio Norr only
        await expect(options.first).to_contain_text("Studio Norr")
        await expect(options.first).to_contain_text("<em>local</em>")  # titles stay text

        await row.get_by_role("button", name="Revoke").click()
        await expect(row).to_have_count(0)
        answer = await w.app.client.get("/api/v1/auth/me", headers=w.app.auth(secret))
        assert answer.status == 401
        # The moderator's open console hears it (websocket closed with 4401) and asks again.
        mform = moderator.page.locator("#signin")
        await expect(mform).to_be_visible()
        await expect(mform.locator(".status")).to_have_text(
            "Your sign-in has ended. Sign in again to go on."
        )
        await expect(moderator.page.locator("#console")).to_be_visible()
        await sign_in(moderator, w.moderator)
        await expect(mform).to_be_hidden()
        admin.assert_clean()
        moderator.assert_clean()


async def test_admin_report_shows_the_viewers_chart_and_exports_csv(
    browser: Any, tmp_path: Path
) -> None:
    """Journey 4: the report page shows peak and total viewers, questions and chat volume, a
    chart of viewers over time, and a CSV export with the same numbers."""
    from playwright.async_api import expect

    async with world(tmp_path, browser, media=False) as w:
        live = await w.session(OPENING, -30, 15)
        await w.step(live["id"], "live")
        store = w.app.web_app[PROGRAMME].store
        minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=12)
        for i, viewers in enumerate((3, 8, 21, 34, 30, 12)):
            await store.record_viewers(live["id"], minute + timedelta(minutes=i), "n1", viewers, 40)
        viewer = await w.open("report-viewer", expected=NO_MEDIA)
        await viewer.page.goto(f"/s/{live['id']}")
        await viewer.page.locator("#chat-text").fill("first!")
        await viewer.page.locator("#chat-text").press("Enter")
        await viewer.page.locator("#ask-text").fill("Will the slides be shared?")
        await viewer.page.get_by_role("button", name="Ask", exact=True).click()
        await expect(viewer.page.locator("#questions li")).to_have_count(1)
        await w.step(live["id"], "end")

        admin = await w.open("report")
        page = admin.page
        await page.goto(f"/report?session={live['id']}")
        await sign_in(admin, w.app.admin_token)
        await expect(page.locator("#report-title")).to_have_text(OPENING)
        figures = page.locator("#figures")
        await expect(
            figures.locator(".figure", has_text="Peak viewers").locator("dd")
        ).to_have_text("34")
        questions = figures.locator(
            ".figure", has=page.locator("dt", has_text=re.compile("^Questions$"))
        )
        await expect(questions.locator("dd")).to_have_text("1")
        # asked online, not through the hall's join code: hall / online
        split = figures.locator(".figure", has_text="Questions: hall / online").locator("dd")
        await expect(split).to_have_text("0 / 1")
        await expect(
            figures.locator(".figure", has_text="Chat messages").locator("dd")
        ).to_have_text("1")
        chart = page.locator("#chart svg")
        await expect(chart).to_be_visible()
        assert await chart.locator("circle").count() >= 6
        points = (await chart.locator("polyline").get_attribute("points") or "").split()
        assert len(points) >= 6
        heights = [float(p.split(",")[1]) for p in points[:6]]
        assert heights[3] == min(heights)  # the peak minute is drawn highest
        await admin.shot("chart")
        await assert_accessible(admin)
        async with page.expect_download() as download_info:
            await page.get_by_role("button", name="Export CSV").click()
        download = await download_info.value
        csv_text = (await download.path()).read_text(encoding="utf-8")
        assert csv_text.splitlines()[1].split(",")[2] == "34"
        assert "minute,viewers" in csv_text
        admin.assert_clean()
        viewer.assert_clean()


async def test_pages_and_static_files_are_served_safely(browser: Any, tmp_path: Path) -> None:
    """Pages carry the strict policy (the embed page alone may be framed, and another site's
    page really can frame it but not the session page), static files have cache headers and a
    path that tries to escape the folder is refused."""
    from playwright.async_api import expect

    async with world(tmp_path, browser, media=False) as w:
        session = await w.session(OPENING, 30, 60)
        site = (
            f'<!doctype html><title>Kommunen</title><iframe id="embed" title="player" '
            f'src="{w.base}/embed/{session["id"]}"></iframe><iframe id="page" title="page" '
            f'src="{w.base}/s/{session["id"]}"></iframe>'
        )

        async def municipality(request: web.Request) -> web.Response:
            return web.Response(text=site, content_type="text/html")

        # The municipality's own site: another origin (another port) on this machine.
        municipal = web.Application()
        municipal.router.add_get("/", municipality)
        elsewhere = TestServer(municipal, host="127.0.0.1")
        await elsewhere.start_server()
        other = await w.open("framing-site")
        await other.page.goto(str(elsewhere.make_url("/")))
        embed = other.page.frame_locator("#embed")
        await expect(embed.locator("#offair-text")).to_contain_text("scheduled")
        framed = other.page.frame_locator("#page")
        await other.page.wait_for_timeout(1000)
        assert await framed.locator("#title").count() == 0  # refused by frame-ancestors
        assert any("frame-ancestors 'none'" in p for p in other.problems), other.problems
        await other.page.context.close()
        await elsewhere.close()
        client = w.app.client
        page = await client.get("/")
        assert page.status == 200
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert "script-src 'self';" in page.headers["Content-Security-Policy"]
        embed = await client.get("/embed/ses_x")
        assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
        script = await client.get("/static/js/common.js")
        assert script.status == 200
        assert script.headers["Content-Type"].startswith("text/javascript")
        assert "max-age" in script.headers["Cache-Control"]
        hls = await client.get("/static/vendor/hls.min.mjs")
        assert hls.status == 200
        for bad in ("/static/..%2Fpages.py", "/static/js/..%2F..%2Fpages.py", "/static/.hidden.js",
                    "/static/vendor/hls.js.LICENSE.exe"):  # fmt: skip
            answer = await client.get(bad)
            assert answer.status == 404, bad
            assert (await answer.json())["error"]["code"] == "not_found"
        del browser
