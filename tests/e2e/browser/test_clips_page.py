"""Clips on the session page in a real browser: a signed-in operator marks in and out on the
replay and makes a 9:16 clip, which is listed with its download once cut; a viewer sees the
ready clip but no form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.support.browser import chromium, needs_chromium, open_page, sign_in
from tests.support.media_stage import (
    new_session,
    publisher,
    replay_published,
    stage,
    start_broadcast,
)
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_chromium, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the module."""
    async with chromium() as running:
        yield running


async def test_staff_clip_the_replay_from_the_session_page(browser: Any, tmp_path: Path) -> None:
    """In 1, out 3.5, 9:16, Swedish captions burned in: the clip is cut, says so and is offered
    for download; viewers see it too."""
    from playwright.async_api import expect

    async with stage(tmp_path, ladder=[], max_gop=1.0, slate=False) as st:
        session_id, key = await new_session(st, "Clip me")
        async with publisher(st.rtmp(key), gop=30):
            await start_broadcast(st, session_id)
            await st.app.client.post(
                f"/api/v1/sessions/{session_id}/captions",
                json={"text": "Välkomna", "language": "sv"},
                headers=st.app.admin,
            )
            seconds = st.media_dir / session_id

            def recorded() -> bool:
                return len(list(seconds.glob("r*_0_*.m4s"))) >= 6

            await until(recorded, timeout=60, what="six seconds recorded")
        await st.app.client.post(f"/api/v1/sessions/{session_id}/end", headers=st.app.admin)

        await replay_published(st, session_id)
        base = str(st.app.client.make_url("/")).rstrip("/")
        staff = await open_page(browser, base, "operator", expected=r"/hls/")
        viewer = await open_page(browser, base, "viewer", expected=r"/hls/")
        try:
            page = staff.page
            await page.goto("/admin")
            await sign_in(staff, st.app.admin_token)
            await page.goto(f"/s/{session_id}")
            box = page.locator("#clips-box")
            await expect(box).to_be_visible()
            await box.locator("summary").click()
            await expect(page.get_by_label("Clip the last seconds")).to_be_hidden()
            await page.get_by_label("In (s)").fill("1")
            await page.get_by_label("Out (s)").fill("3.5")
            await page.get_by_label("9:16").check()
            await page.get_by_label("16:9").uncheck()
            captions = page.get_by_label("Burn in captions")
            await expect(captions.locator("option")).to_have_text(["None", "svenska", "English"])
            await captions.select_option("sv")
            await page.get_by_role("button", name="Make the clip").click()
            await expect(page.locator("#clip-status")).to_have_text(
                "The clip is being cut; it appears below when ready."
            )
            link = page.locator("#clip-list li", has_text="9:16").get_by_role(
                "link", name="Download"
            )
            await expect(link).to_be_visible(timeout=60_000)
            href = await link.get_attribute("href")
            assert href is not None
            assert href.endswith(".mp4")
            await expect(page.locator("#clip-list li")).to_contain_text(
                "9:16 · 1\u20133.5 s · captions: svenska"
            )

            await viewer.page.goto(f"/s/{session_id}")
            await expect(viewer.page.locator("#clips-box")).to_be_visible()
            await expect(viewer.page.locator("#clip-form")).to_be_hidden()
            await viewer.page.locator("#clips-box summary").click()
            await expect(viewer.page.get_by_role("link", name="Download")).to_have_count(1)
            staff.assert_clean()
            viewer.assert_clean()
        finally:
            for watched in (staff, viewer):
                await watched.page.context.close()
