"""Helpers for the browser tests: real headless Chromium through Playwright, screenshots, and
pages that fail the test on any console error (script errors, Content-Security-Policy
violations, failed loads), uncaught exception or unexpected HTTP error."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.waiting import until

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-dev-shm-usage",
]
# Answers >= 400 a page may get in normal use: WebRTC playback full or absent (the player falls
# back to HLS). Chromium logs each answer >= 400 as a console error ("Failed to load resource");
# those are allowed for the URLs a test expects to fail, and no other console error is.
EXPECTED_FAILURES = re.compile(r"/whep/")
FAILED_LOAD = "Failed to load resource"
# An LL-HLS part the server withdrew (announced as the preload hint, then its segment closed
# first) answers 404 with the code "part_withdrawn"; the spec lets players carry on past it.
# A rendition the node dropped for overload answers 404 "rendition_dropped" (hls.js moves to
# another level). Both are judged by their answer's code, not their status.
PART = re.compile(r"/hls/[^/]+/(r[0-9]+_[0-9]+_[0-9]+\.[0-9]+\.m4s|[^/]+\.m3u8)$")
EXCUSED_CODES = ('"part_withdrawn"', '"rendition_dropped"')

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or shutil.which("ffmpeg") is None,
    reason="needs /usr/bin/chromium and ffmpeg (make deps-system)",
)


@dataclass
class Watched:
    """A page and the problems it reported (console errors, uncaught exceptions)."""

    page: Any
    name: str
    problems: list[str] = field(default_factory=list)
    failed_parts: list[str] = field(default_factory=list)  # URLs of parts answered 404
    withdrawn: set[str] = field(default_factory=set)  # ... of which the server withdrew these

    def assert_clean(self) -> None:
        """No script error, no CSP violation and no failed load but of a withdrawn part
        happened on this page."""
        problems = self.problems + [
            f"HTTP 404: GET {url}" for url in self.failed_parts if url not in self.withdrawn
        ]
        assert not problems, f"{self.name}: " + "\n".join(problems)

    async def shot(self, label: str) -> Path:
        """Write a full-page screenshot under test-artifacts/browser/."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{label}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium for the block (the system one; browsers are never downloaded)."""
    from playwright.async_api import async_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_page(
    browser: Any,
    base_url: str,
    name: str,
    *,
    locale: str = "en-GB",
    expected: str = "",
    console: str = "",
    **options: Any,
) -> Watched:
    """A fresh browser context (own cookies and storage) with one watched page; answers >= 400
    (and the console error the browser logs for each) fail the test unless their URL matches
    ``expected`` (a regex) or is expected anyway; any other console error fails it unless it
    matches ``console`` (a regex: what the test provokes on purpose)."""
    allowed = re.compile(
        f"{EXPECTED_FAILURES.pattern}|{expected}" if expected else EXPECTED_FAILURES.pattern
    )
    options.setdefault("viewport", {"width": 1280, "height": 900})
    context = await browser.new_context(
        base_url=base_url,
        locale=locale,
        permissions=["camera", "microphone", "clipboard-read", "clipboard-write"],
        **options,
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    watched = Watched(page, name)

    deliberate = re.compile(console) if console else None

    def on_console(message: Any) -> None:
        if message.type != "error":
            return
        url = str((message.location or {}).get("url", "")).split("?")[0]
        if message.text.startswith(FAILED_LOAD) and (allowed.search(url) or PART.search(url)):
            return  # a failed part load is judged by its answer (on_response)
        if deliberate is not None and deliberate.search(message.text):
            return
        watched.problems.append(f"console: {message.text} ({url})")

    page.on("console", on_console)

    async def on_response(response: Any) -> None:
        url = response.url.split("?")[0]
        if response.status < 400 or allowed.search(url):
            return
        if response.status == 404 and PART.search(url):
            watched.failed_parts.append(response.url)
            with contextlib.suppress(Exception):  # the page may be gone; then it counts
                answer = await response.text()
                if any(code in answer for code in EXCUSED_CODES):
                    watched.withdrawn.add(response.url)
            return
        watched.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    page.on("response", on_response)
    page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: dialog.accept())
    return watched


async def sign_in(watched: Watched, token: str) -> None:
    """Fill the console's sign-in form with ``token``."""
    page = watched.page
    await page.locator("#token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#console").wait_for(state="visible")


UNLABELLED = """
(() => {
  const named = (el) =>
    (el.labels && el.labels.length > 0) || el.getAttribute("aria-label") ||
    el.getAttribute("aria-labelledby") || el.title ||
    ((el.tagName === "BUTTON" || el.tagName === "A") && el.textContent.trim());
  const visible = (el) =>
    el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const controls = "input:not([type=hidden]), select, textarea, button, a[href], video";
  return [...document.querySelectorAll(controls)]
    .filter((el) => visible(el) && !named(el))
    .map((el) => el.outerHTML.slice(0, 120));
})()
"""


async def assert_accessible(watched: Watched) -> None:
    """Every visible control has an accessible name, the page has a language and one h1 at
    most, and nothing is wider than the viewport (so a phone never scrolls sideways)."""
    page = watched.page
    unlabelled = await page.evaluate(UNLABELLED)
    assert not unlabelled, f"{watched.name}: controls without a name: {unlabelled}"
    assert await page.evaluate("document.documentElement.lang") in {"en", "sv", "fi", "nb"}
    assert await page.locator("h1:visible").count() <= 1, watched.name
    overflow = await page.evaluate(
        "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
    )
    assert overflow <= 0, f"{watched.name}: {overflow}px wider than the viewport"


async def choose_latency(page: Any, latency: str) -> None:
    """Pick ``latency`` in the session page's latency menu once the page has started its
    player (before that, the page sets the menu from what was remembered and would undo it)."""

    async def started() -> bool:
        return bool(
            await page.evaluate("Boolean(document.getElementById('video')?.dataset.playback)")
        )

    await until(started, timeout=30, what="the session page's player to start", interval=0.1)
    await page.locator("#latency").select_option(latency)


CAPTION_LINES = """(items) => items.map((item) =>
  [item.querySelector('time').textContent, item.querySelector('input').value])"""


async def caption_lines(page: Any) -> list[tuple[str, str]]:
    """The caption console's lines as shown: (time from go-live, text in its field)."""
    found = await page.locator("#cues li").evaluate_all(CAPTION_LINES)
    return [(time, text) for time, text in found]
