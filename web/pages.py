"""The browser apps: HTML shells and the static files (scripts, styles, catalogues, vendored code).

The pages are plain HTML shells with no inline code; everything they show comes from the
documented HTTP API and websocket protocol, fetched by the modules under ``web/static``.
Static files are looked up by name inside ``web/static`` only (one folder level at most), so a
request can never reach a file outside it.
"""

from __future__ import annotations

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
PAGE_CACHE = "no-cache"
# The embed page is meant to be framed by the municipality's own site.
EMBED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors *; "
    "base-uri 'none'; form-action 'self'; object-src 'none'"
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


def _file_response(path: Path, cache: str) -> web.Response:
    content_type = STATIC_TYPES[path.suffix]
    binary = content_type in ("image/png", "image/x-icon")
    return web.Response(
        body=path.read_bytes(),
        content_type=content_type,
        charset=None if binary else "utf-8",
        headers={"Cache-Control": cache},
    )


def _missing(what: str) -> NotFound:
    return NotFound("file", what)


async def static_file(request: web.Request) -> web.Response:
    """A file directly under ``web/static``."""
    name = request.match_info["name"]
    path = static_path(None, name)
    if path is None:
        raise _missing(name)
    return _file_response(path, STATIC_CACHE)


async def static_nested(request: web.Request) -> web.Response:
    """A file in a folder of ``web/static`` (``vendor``, ``i18n``, ``js``)."""
    folder, name = request.match_info["folder"], request.match_info["name"]
    path = static_path(folder, name)
    if path is None:
        raise _missing(f"{folder}/{name}")
    return _file_response(path, VENDOR_CACHE if folder == "vendor" else STATIC_CACHE)


def _page(name: str) -> web.Response:
    path = STATIC_ROOT / name
    return web.Response(
        body=path.read_bytes(),
        content_type=HTML_TYPE,
        charset="utf-8",
        headers={"Cache-Control": PAGE_CACHE},
    )


async def guide_page(request: web.Request) -> web.Response:
    """The viewer's programme guide."""
    return _page("index.html")


async def session_page(request: web.Request) -> web.Response:
    """One session: player, chat, Q&A, polls (the page itself looks the session up)."""
    return _page("session.html")


def _framable(name: str) -> web.Response:
    """A page other sites may frame (its own CSP with ``frame-ancestors *``)."""
    response = _page(name)
    response.headers["Content-Security-Policy"] = EMBED_CSP
    return response


async def embed_page(request: web.Request) -> web.Response:
    """The player alone, for framing in another site."""
    return _framable("embed.html")


async def studio_page(request: web.Request) -> web.Response:
    """The operator console."""
    return _page("studio.html")


async def moderate_page(request: web.Request) -> web.Response:
    """The moderator console."""
    return _page("moderate.html")


async def admin_page(request: web.Request) -> web.Response:
    """The admin's page: programme import, studios, access tokens, reports."""
    return _page("admin.html")


async def report_page(request: web.Request) -> web.Response:
    """The after-event report of a session."""
    return _page("report.html")


async def channel_page(request: web.Request) -> web.Response:
    """A studio's channel: whatever the studio has on air, the next session's card between."""
    return _page("channel.html")


async def channel_embed_page(request: web.Request) -> web.Response:
    """A studio's channel player alone, for framing in another site (one embed per event)."""
    return _framable("channel.html")


async def screen_page(request: web.Request) -> web.Response:
    """The hall screen for a projector: highlighted question, poll bars, join code."""
    return _page("screen.html")


async def join_page(request: web.Request) -> web.Response:
    """The participation page a join code opens on a phone (questions, votes, polls)."""
    return _page("join.html")
