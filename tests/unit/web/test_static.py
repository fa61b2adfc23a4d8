"""The browser apps' files, without a browser: catalogues agree, static paths cannot escape,
pages hold no inline code and every string the pages use has a translation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from web.pages import STATIC_ROOT, file_version, stamp_assets, static_path

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


SCRIPTS = STATIC_ROOT / "js"
IMPORT = re.compile(
    r"\bimport\s+(?:(?P<default>[\w$]+)\s*,?\s*)?(?:\{(?P<names>[^}]*)\}\s*)?(?:from\s+)?"
    r'"(?P<path>[^"]+)"'
)
EXPORT = re.compile(r"\bexport\s+(?:async\s+)?(?:function\*?|class|const|let|var)\s+([\w$]+)")
PAGE_SCRIPT = re.compile(r'<script\b[^>]*\bsrc="([^"]+)"')
# The realtime events a room folds (docs/protocol.md): room.js is the one reducer of them.
ROOM_EVENTS = ("chat.message", "chat.deleted", "chat.settings", "qa.question", "qa.removed")


def static_file(url: str) -> Path | None:
    """The file a ``/static/...`` address names, or None."""
    parts = url.removeprefix("/static/").split("/")
    if not url.startswith("/static/") or len(parts) > 2:
        return None
    return static_path(parts[0] if len(parts) == 2 else None, parts[-1])


def imports(script: Path) -> list[tuple[str, list[str]]]:
    """The addresses ``script`` imports from, each with the names it takes (``default`` too)."""
    found = []
    for match in IMPORT.finditer(script.read_text("utf-8")):
        names = [n.split(" as ")[0].strip() for n in (match["names"] or "").split(",")]
        taken = [n for n in names if n] + (["default"] if match["default"] else [])
        found.append((match["path"], taken))
    return found


def test_every_page_script_and_import_exists() -> None:
    """Pages load modules that exist, and every module they import (at any depth) is served."""
    pages = list(STATIC_ROOT.glob("*.html"))
    loaded = {src for page in pages for src in PAGE_SCRIPT.findall(page.read_text("utf-8"))}
    assert loaded, "the scan found no scripts"
    for script in SCRIPTS.glob("*.js"):
        loaded |= {path for path, _ in imports(script)}
    for url in sorted(loaded):
        assert static_file(url) is not None, url


def test_every_imported_name_is_exported() -> None:
    """A module imports only names the module it imports from exports (our modules, not vendor)."""
    exported = {f"/static/js/{s.name}": set(EXPORT.findall(s.read_text("utf-8")))
                for s in SCRIPTS.glob("*.js")}  # fmt: skip
    checked = 0
    for script in SCRIPTS.glob("*.js"):
        for path, names in imports(script):
            if path.startswith("/static/vendor/"):
                continue
            missing = set(names) - exported[path]
            assert not missing, f"{script.name} imports {sorted(missing)} from {path}"
            checked += len(names)
    assert checked > 50, checked


def test_modules_import_each_other_without_cycles() -> None:
    """Our modules form a tree of imports (a cycle could meet a binding not yet initialised)."""
    graph = {s.name: [p.rsplit("/", 1)[1] for p, _ in imports(s) if p.startswith("/static/js/")]
             for s in SCRIPTS.glob("*.js")}  # fmt: skip
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name in done:
            return
        for imported in graph[name]:
            visit(imported, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())


def test_room_events_are_folded_only_by_the_room_module() -> None:
    """One reducer: only room.js reads chat, question and poll events; pages draw its state."""
    for script in SCRIPTS.glob("*.js"):
        if script.name == "room.js":
            continue
        code = script.read_text("utf-8")
        for event in ROOM_EVENTS:
            assert f'"{event}"' not in code, f"{script.name}: {event}"
        assert not re.search(r'(case|===)\s*"poll"', code), script.name


def test_http_goes_through_the_api_and_webrtc_modules() -> None:
    """Only api.js (JSON API), webrtc.js (WHIP/WHEP) and i18n.js (catalogues) call fetch."""
    callers = {s.name for s in SCRIPTS.glob("*.js") if "fetch(" in s.read_text("utf-8")}
    assert callers == {"api.js", "webrtc.js", "i18n.js"}


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


def test_stamp_assets_versions_static_addresses_only() -> None:
    """src/href naming a static file get ?v=<hash>; other addresses and unknown files do not."""
    version = file_version(STATIC_ROOT / "app.css")
    assert len(version) == 12
    html = (
        '<link rel="stylesheet" href="/static/app.css"><a href="/s/x">x</a>'
        '<script type="module" src="/static/js/guide.js"></script>'
        '<img src="/static/missing.png"><a href="https://example.org/static/app.css">e</a>'
    )
    stamped = stamp_assets(html)
    assert f'href="/static/app.css?v={version}"' in stamped
    assert f'src="/static/js/guide.js?v={file_version(STATIC_ROOT / "js" / "guide.js")}"' in stamped
    assert 'src="/static/missing.png"' in stamped
    assert 'href="https://example.org/static/app.css"' in stamped
    assert 'href="/s/x"' in stamped
