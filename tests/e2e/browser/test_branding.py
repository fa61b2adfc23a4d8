"""Branding in a real browser: the admin sets the event's name, colours and logo and the
programme guide shows them; a too-pale colour pair is refused with the pair and its ratio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.support.browser import chromium, needs_chromium, open_page, sign_in
from tests.support.harness import running_app, settings_for, sqlite_url
from tests.support.images import png

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.asyncio(loop_scope="module")]

PALE = (
    "text: text #aaaaaa on background #fffdf5 has a contrast of 2.28:1; "
    "WCAG AA asks for at least 4.5:1 for text"
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the module."""
    async with chromium() as running:
        yield running


async def style(page: Any, selector: str, prop: str) -> str:
    """The computed value of ``prop`` on the first element matching ``selector``."""
    value: str = await page.eval_on_selector(
        selector, f"(el) => getComputedStyle(el).getPropertyValue('{prop}')"
    )
    return value.strip()


async def test_admin_sets_colours_and_logo_and_the_guide_shows_them(
    browser: Any, tmp_path: Path
) -> None:
    """Name, colours and logo saved on the admin page appear on the guide (header name and
    logo, page background, text and link colours); a pale pair is refused and changes nothing."""
    from playwright.async_api import expect

    settings = settings_for(sqlite_url(tmp_path), TORGET_MEDIA_ENABLED="false")
    async with running_app(settings) as app:
        base = str(app.client.make_url("/")).rstrip("/")
        admin = await open_page(browser, base, "admin", expected=r"/api/v1/branding$")
        guide = await open_page(browser, base, "guide")
        try:
            page = admin.page
            await page.goto("/admin")
            await sign_in(admin, app.admin_token)
            form = page.locator("#branding-form")
            await form.get_by_label("Event name").fill("Kommunmässan 2026")
            await form.get_by_label("Background").fill("#fffdf5")
            await form.get_by_label("Text").fill("#1b1b1b")
            await form.get_by_label("Links and buttons").fill("#8a1538")
            await form.get_by_label("Logo (PNG, JPEG or WebP, at most 512 KiB)").set_input_files(
                files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png(40, 20)}]
            )
            await form.get_by_role("button", name="Save the look").click()
            await expect(page.locator("#branding-status")).to_have_text(
                "Saved: every page shows the new look when it is next opened."
            )

            await guide.page.goto("/")
            brand = guide.page.locator(".bar .brand")
            await expect(brand).to_have_text("Kommunmässan 2026")
            await expect(guide.page.locator("h1")).to_have_text("Kommunmässan 2026")
            logo = guide.page.locator(".bar .brand img.brand-logo")
            await expect(logo).to_be_visible()
            assert await logo.evaluate("(img) => img.naturalWidth") == 40
            assert await style(guide.page, ":root", "background-color") == "rgb(255, 253, 245)"
            assert await style(guide.page, "body", "color") == "rgb(27, 27, 27)"
            assert await style(guide.page, ":root", "--brand-accent") == "#8a1538"
            await guide.shot("branded guide")

            await form.get_by_label("Text").fill("#aaaaaa")
            await form.get_by_role("button", name="Save the look").click()
            await expect(page.locator("#branding-status")).to_have_text(PALE)
            await guide.page.reload()
            await expect(guide.page.locator(".bar .brand")).to_have_text("Kommunmässan 2026")
            assert await style(guide.page, "body", "color") == "rgb(27, 27, 27)"
            admin.assert_clean()
            guide.assert_clean()
        finally:
            for watched in (admin, guide):
                await watched.page.context.close()
