"""The caption console's corrections in a real browser, without media: lines sent while the
session is live are listed as they come (the console's own and a caption service's, over the
websocket); after the session ended the captioner fixes a line's text, sees the server's
refusal of an empty one beside the line, shifts every line, and the .vtt and .srt downloads
carry the corrected text at the shifted times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    assert_accessible,
    caption_lines,
    chromium,
    needs_chromium,
    open_page,
    sign_in,
)
from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_chromium]
FIRST = "Välkomna till Kommunmässan"
TYPO = "Och välkomna onlnie"
FIXED = "Och välkomna online"
# Without media the console's player finds no stream while the session is live; the empty
# correction is refused on purpose.
EXPECTED = r"/hls/|/captions/cap_[^/]+$"


async def _post(app: RunningApp, path: str, body: Any, headers: dict[str, str]) -> Any:
    answer = await app.client.post(path, json=body, headers=headers)
    assert answer.status in (200, 201), await answer.text()
    return await answer.json()


async def _download(page: Any, link: str, into: Path) -> str:
    """Click the download link ``link`` (its text) and read the file the browser saved."""
    async with page.expect_download() as started:
        await page.get_by_role("link", name=link).click()
    download = await started.value
    target = into / str(download.suggested_filename)
    await download.save_as(target)
    return target.read_text("utf-8")


async def test_a_captioner_corrects_and_shifts_lines_after_the_session(tmp_path: Path) -> None:
    """Two lines arrive in the list while live; after the end, the typo is fixed with Enter, an
    emptied line shows "text: a caption line needs some text" beside it, a +1.5 s shift moves
    both, and both downloads show the fixed text 1.5 s later than it was sent."""
    async with running_app(settings_for(sqlite_url(tmp_path))) as app, chromium() as browser:
        went_live = datetime.now(UTC).replace(microsecond=0)
        app.clock.current = went_live  # the sign-in cookie's clock is the browser's
        studio = (await _post(app, "/api/v1/studios", {"name": "Stora scenen"}, app.admin))["id"]
        ends = went_live + timedelta(hours=1)
        body = {"studio_id": studio, "title": "Textad session", "starts_at": went_live.isoformat(),
                "ends_at": ends.isoformat(), "auto_start": False}  # fmt: skip
        session = (await _post(app, "/api/v1/sessions", body, app.admin))["id"]
        await _post(app, f"/api/v1/sessions/{session}/live", None, app.admin)
        token = await _post(
            app, "/api/v1/tokens",
            {"role": "captioner", "name": "Textare", "studio_ids": [studio]}, app.admin,
        )  # fmt: skip

        console = await open_page(browser, f"http://127.0.0.1:{app.client.port}", "caption-console",
                                  expected=EXPECTED)  # fmt: skip
        page = console.page
        await page.goto("/caption")
        await sign_in(console, token["token"])
        await page.locator(f'#cues[data-room="{session}"]').wait_for(state="attached")
        line = page.get_by_label("Caption line (Enter sends it)")
        await line.fill(FIRST)
        await line.press("Enter")

        async def first_listed() -> bool:
            return await caption_lines(page) == [("00:00:00.000", FIRST)]

        await until(first_listed, timeout=10, what="the console's own line", interval=0.1)
        app.clock.current = went_live + timedelta(seconds=4)
        await _post(app, f"/api/v1/sessions/{session}/captions", {"text": TYPO, "language": "sv"},
                    app.auth(token["token"]))  # fmt: skip

        async def both_listed() -> bool:
            return await caption_lines(page) == [("00:00:00.000", FIRST), ("00:00:04.000", TYPO)]

        await until(both_listed, timeout=10, what="both lines in the console", interval=0.1)
        await _post(app, f"/api/v1/sessions/{session}/end", None, app.admin)

        # After the broadcast: no writing, no picture; the lines are there to correct.
        await page.reload()
        await page.get_by_label("Line at 00:00:04.000").wait_for()
        assert await page.locator("#session").input_value() == session
        assert await page.locator("#write").is_hidden()
        await assert_accessible(console)
        typo = page.get_by_label("Line at 00:00:04.000")
        await typo.fill(FIXED)
        await typo.press("Enter")
        item = page.locator("#cues li").nth(1)
        await item.get_by_role("status").filter(has_text="Saved.").wait_for()
        first = page.get_by_label("Line at 00:00:00.000")
        await first.fill("   ")
        await page.locator("#cues li").first.get_by_role("button", name="Save").click()
        refusal = page.locator("#cues li").first.get_by_role("status")
        await refusal.filter(has_text="text: a caption line needs some text").wait_for()
        assert await first.get_attribute("aria-invalid") == "true"
        await console.shot("refused")

        await page.get_by_label("Shift all lines by (seconds; negative: earlier)").fill("+1.5")
        await page.get_by_role("button", name="Shift all lines").click()
        await page.locator("#shift-status").filter(has_text="Lines moved by 1.5 s: 2.").wait_for()

        async def shifted() -> bool:
            times = [time for time, _ in await caption_lines(page)]
            return times == ["00:00:01.500", "00:00:05.500"]

        await until(shifted, timeout=10, what="the shifted times", interval=0.1)
        assert (await caption_lines(page))[1] == ("00:00:05.500", FIXED)
        listed = await (await app.client.get(f"/api/v1/sessions/{session}/captions")).json()
        assert [cue["text"] for cue in listed] == [FIRST, FIXED]  # the refused one is unchanged

        vtt = await _download(page, "Download .vtt (WebVTT)", tmp_path)
        assert vtt.startswith("WEBVTT\n")
        assert f"2\n00:00:05.500 --> 00:00:07.000\n{FIXED}\n" in vtt, vtt
        assert f"1\n00:00:01.500 --> 00:00:03.233\n{FIRST}\n" in vtt, vtt
        srt = await _download(page, "Download .srt (SubRip)", tmp_path)
        assert f"2\n00:00:05,500 --> 00:00:07,000\n{FIXED}\n" in srt, srt
        await console.shot("corrected")
        console.assert_clean()
