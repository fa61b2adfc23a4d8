"""Pages stamp their assets with versions; static files go out with validators, 304s, ranges
and a year's cache when versioned, over real HTTP."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from web.pages import STATIC_ROOT

YEAR = "public, max-age=31536000, immutable"
BRIEF = "public, max-age=60, must-revalidate"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningApp]:
    """A running Torget."""
    async with running_app(settings_for(sqlite_url(tmp_path))) as running:
        yield running


def _version(relative: str) -> str:
    return hashlib.sha256((STATIC_ROOT / relative).read_bytes()).hexdigest()[:12]


async def test_pages_name_their_assets_with_versions_and_revalidate(app: RunningApp) -> None:
    """Each page's stylesheet and script carry ?v=<content hash>; the strict CSP stays; the
    page has an ETag and a conditional request gets 304 without a body."""
    for url, script in (("/", "guide"), ("/s/ses_x", "session"), ("/studio", "studio")):
        page = await app.client.get(url)
        html = await page.text()
        assert f'href="/static/app.css?v={_version("app.css")}"' in html
        assert f'src="/static/js/{script}.js?v={_version(f"js/{script}.js")}"' in html
        assert not re.search(r'"/static/[^"?]+"', html), "every static address is stamped"
        assert "script-src 'self';" in page.headers["Content-Security-Policy"]
        assert page.headers["Cache-Control"] == "no-cache"
        again = await app.client.get(url, headers={"If-None-Match": page.headers["ETag"]})
        assert again.status == 304
        assert await again.read() == b""


async def test_a_versioned_asset_is_cached_for_a_year(app: RunningApp) -> None:
    """The stamped address is immutable for a year; a wrong or missing version is not."""
    css = f"/static/app.css?v={_version('app.css')}"
    answer = await app.client.get(css)
    assert answer.status == 200
    assert answer.headers["Cache-Control"] == YEAR
    assert answer.headers["Content-Type"] == "text/css; charset=utf-8"
    assert await answer.read() == (STATIC_ROOT / "app.css").read_bytes()
    for other in ("/static/app.css?v=0123456789ab", "/static/app.css"):
        assert (await app.client.get(other)).headers["Cache-Control"] == BRIEF


async def test_static_files_have_validators_304s_and_ranges(app: RunningApp) -> None:
    """ETag and Last-Modified on every file; If-None-Match and If-Modified-Since get 304;
    a byte range gets 206 (the file is sent as a file, not built in memory)."""
    for url in ("/static/js/api.js", "/static/i18n/sv.json", "/static/vendor/hls.min.mjs"):
        answer = await app.client.get(url)
        assert answer.status == 200
        body = await answer.read()
        etag, modified = answer.headers["ETag"], answer.headers["Last-Modified"]
        by_tag = await app.client.get(url, headers={"If-None-Match": etag})
        assert (by_tag.status, await by_tag.read()) == (304, b"")
        by_date = await app.client.get(url, headers={"If-Modified-Since": modified})
        assert by_date.status == 304
        part = await app.client.get(url, headers={"Range": "bytes=0-9"})
        assert (part.status, await part.read()) == (206, body[:10])
    vendor = await app.client.get("/static/vendor/hls.min.mjs")
    assert vendor.headers["Cache-Control"] == "public, max-age=86400"
    assert vendor.headers["Content-Type"] == "text/javascript; charset=utf-8"
