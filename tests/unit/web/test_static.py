"""The browser apps' files, without a browser: catalogues agree, static paths cannot escape,
pages hold no inline code and every string the pages use has a translation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from web.pages import STATIC_ROOT, static_path

LANGS = ("en", "sv", "fi", "nb")


def catalogue(code: str) -> dict[str, str]:
    """One language's catalogue."""
    data: dict[str, str] = json.loads((STATIC_ROOT / "i18n" / f"{code}.json").read_text("utf-8"))
    return data


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    """Swedish, Finnish and bokmål translate exactly the English keys, with the same {names}."""
    english = catalogue("en")
    for code in LANGS[1:]:
        other = catalogue(code)
        assert set(other) == set(english), code
        for key, text in english.items():
            assert set(re.findall(r"{\w+}", other[key])) == set(re.findall(r"{\w+}", text)), key
            assert other[key].strip(), f"{code}: {key} is empty"


def test_every_key_the_pages_use_is_in_the_catalogue() -> None:
    """Keys named in the HTML (data-i18n*) and in the scripts (t("...")) all exist."""
    keys = set(catalogue("en"))
    used: set[str] = set()
    for page in STATIC_ROOT.glob("*.html"):
        used |= set(re.findall(r'data-i18n(?:-\w+)?="([^"]+)"', page.read_text("utf-8")))
    for script in (STATIC_ROOT / "js").glob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"([^"]+)"', script.read_text("utf-8")))
    assert used, "the scan found no keys"
    assert used <= keys, sorted(used - keys)


def test_pages_have_no_inline_scripts_styles_or_handlers() -> None:
    """The strict CSP (script-src 'self', style-src 'self') holds: nothing inline in the HTML."""
    for page in STATIC_ROOT.glob("*.html"):
        html = page.read_text("utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), page.name
        assert "<style" not in html, page.name
        assert not re.search(r"\son[a-z]+=", html), page.name
        assert not re.search(r"\sstyle=", html), page.name


def test_scripts_never_insert_html() -> None:
    """User text goes in as text: no innerHTML, outerHTML, insertAdjacentHTML or eval."""
    for script in (STATIC_ROOT / "js").glob("*.js"):
        code = script.read_text("utf-8")
        for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert banned not in code, f"{script.name}: {banned}"


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        (None, ".."),
        (None, "../pages.py"),
        ("..", "pages.py"),
        ("js", "../../app.py"),
        ("js", ".hidden.js"),
        (None, ""),
        ("vendor", "hls.min.mjs\x00.js"),
        ("js", "nope.js"),
        (None, "app.exe"),
        ("i18n", "..\\en.json"),
    ],
)
def test_static_paths_outside_the_folder_or_unknown_are_refused(
    folder: str | None, name: str
) -> None:
    """A name with separators, dots, NULs, an unknown suffix or no file behind it finds nothing."""
    assert static_path(folder, name) is None


def test_static_paths_find_the_shipped_files() -> None:
    """The files the pages load are found inside the static folder."""
    for folder, name in ((None, "app.css"), ("js", "common.js"), ("vendor", "hls.min.mjs"),
                         ("i18n", "sv.json")):  # fmt: skip
        found = static_path(folder, name)
        assert found is not None, name
        assert found.is_relative_to(STATIC_ROOT), name


def test_vendored_hls_js_matches_the_lockfile() -> None:
    """The committed hls.js is the version package-lock.json pins, with its licence beside it."""
    lock = json.loads((STATIC_ROOT.parent / "frontend" / "package-lock.json").read_text("utf-8"))
    version = lock["packages"]["node_modules/hls.js"]["version"]
    stamp = (STATIC_ROOT / "vendor" / "hls.js.VERSION.txt").read_text("utf-8").strip()
    assert stamp == f"hls.js {version}"
    assert "Apache" in (STATIC_ROOT / "vendor" / "hls.js.LICENSE.txt").read_text("utf-8")
    assert Path(STATIC_ROOT / "vendor" / "hls.worker.js").stat().st_size > 10_000
