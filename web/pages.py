"""The browser apps: HTML shells and the static files (scripts, styles, catalogues, vendored code).

The pages are plain HTML shells with no inline code; everything they show comes from the
documented HTTP API and websocket protocol, fetched by the modules under ``web/static``.
Static files are looked up by name inside ``web/static`` only (one folder level at most), so a
request can never reach a file outside it.

Caching: a page is served with every ``/static/...`` address in its ``src`` and ``href``
attributes stamped ``?v=<hash of the file>`` (``stamp_assets``); a static file asked for with
the ``v`` of its current content is cached for a year (``immutable``), any other request for it
briefly and revalidated. Files go out with ``sendfile`` (``web.FileResponse``), an ``ETag`` and
``Last-Modified``, and a conditional request gets 304; pages carry an ``ETag`` of their stamped
text. Nothing is read on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePosixPath

from aiohttp import web

from studio.errors import NotFound

STATIC_ROOT = Path(__file__).resolve().parent / "static"
HTML_TYPE = "text/html"
STATIC_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".vtt": "text/vtt",
    ".txt": "text/plain",
    ".map": "application/json",
}
STATIC_MEDIA_TYPES = tuple(sorted(set(STATIC_TYPES.values())))
# Vendored files carry their version in the folder's licence file, our own may change with any
# deploy: a short public cache with revalidation keeps a fresh deploy visible within a minute.
STATIC_CACHE = "public, max-age=60, must-revalidate"
VENDOR_CACHE = "public, max-age=86400"
VERSIONED_CACHE = "public, max-age=31536000, immutable"  # the ?v= of the file's content
PAGE_CACHE = "no-cache"
_BINARY = frozenset({"image/png", "image/x-icon"})
_ASSET = re.compile(r'(\b(?:src|href)=")(/static/[^"?#]+)(")')
_versions: dict[Path, tuple[tuple[int, int], str]] = {}
# The embed page is meant to be framed by the municipality's own site.
EMBED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors *; base-uri 'none'; form-action 'self'; object-src 'none'"
)


def static_path(folder: str | None, name: str) -> Path | None:
    """The file under ``STATIC_ROOT`` a request names, or None when it names anything else.

    Pure apart from resolving the path: refuses empty parts, dot files, ``..``, separators and
    anything that resolves outside the root (symlinks included).
    """
    parts = [p for p in (folder, name) if p is not None]
    for part in parts:
        if (
            not part
            or part.startswith(".")
            or "/" in part
            or "\\" in part
            or "\x00" in part
            or PurePosixPath(part).name != part
        ):
            return None
    candidate = STATIC_ROOT.joinpath(*parts)
    if candidate.suffix not in STATIC_TYPES:
        return None
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(STATIC_ROOT) or not resolved.is_file():
        return None
    return resolved


def file_version(path: Path) -> str:
    """A short hash of the file's content (kept until its size or modification time changes).
    Blocking: call it in a thread."""
    stat = path.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _versions.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    _versions[path] = (key, version)
    return version


def stamp_assets(html: str) -> str:
    """``html`` with each ``src``/``href`` naming a static file stamped with its version
    (``/static/app.css`` -> ``/static/app.css?v=3f2a...``); other addresses are left alone.
    Blocking: call it in a thread."""

    def stamped(found: re.Match[str]) -> str:
        parts = found.group(2).removeprefix("/static/").split("/")
        path = static_path(*parts) if len(parts) == 2 else static_path(None, parts[0])
        if path is None:
            return found.group(0)
        return f"{found.group(1)}{found.group(2)}?v={file_version(path)}{found.group(3)}"

    return _ASSET.sub(stamped, html)


def _content_type(path: Path) -> str:
    kind = STATIC_TYPES[path.suffix]
    return kind if kind in _BINARY else f"{kind}; charset=utf-8"


async def _file_response(request: web.Request, path: Path, cache: str) -> web.FileResponse:
    """The file by sendfile with ETag and Last-Modified (aiohttp answers If-None-Match and
    If-Modified-Since with 304); cached for a year when asked for with its current version."""
    version = request.query.get("v")
    if version and version == await asyncio.to_thread(file_version, path):
        cache = VERSIONED_CACHE
    return web.FileResponse(
        path, headers={"Content-Type": _content_type(path), "Cache-Control": cache}
    )


def _missing(what: str) -> NotFound:
    return NotFound("file", what)


async def static_file(request: web.Request) -> web.StreamResponse:
    """A file directly under ``web/static``."""
    name = request.match_info["name"]
    path = await asyncio.to_thread(static_path, None, name)
    if path is None:
        raise _missing(name)
    return await _file_response(request, path, STATIC_CACHE)


async def static_nested(request: web.Request) -> web.StreamResponse:
    """A file in a folder of ``web/static`` (``vendor``, ``i18n``, ``js``)."""
    folder, name = request.match_info["folder"], request.match_info["name"]
    path = await asyncio.to_thread(static_path, folder, name)
    if path is None:
        raise _missing(f"{folder}/{name}")
    return await _file_response(request, path, VENDOR_CACHE if folder == "vendor" else STATIC_CACHE)


def _stamped_page(name: str) -> bytes:
    return stamp_assets((STATIC_ROOT / name).read_text(encoding="utf-8")).encode()


async def _page(request: web.Request, name: str) -> web.Response:
    """A page with its assets stamped, an ETag of that text, 304 when the browser has it."""
    body = await asyncio.to_thread(_stamped_page, name)
    etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
    headers = {"Cache-Control": PAGE_CACHE, "ETag": etag}
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=HTML_TYPE, charset="utf-8", headers=headers)


def page(
    name: str, operation: str, *, framable: bool = False
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler of the page ``web/static/<name>``, named ``operation`` (the route's OpenAPI
    operation id); ``framable``: other sites may frame it (the embeds' own CSP)."""

    async def serve(request: web.Request) -> web.Response:
        response = await _page(request, name)
        if framable:
            response.headers["Content-Security-Policy"] = EMBED_CSP
        return response

    serve.__name__ = operation
    return serve
