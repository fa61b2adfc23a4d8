"""Restream destination URLs: the check, the masked form an API shows, the scrubbing of logs.

A destination must be ``rtmp://`` or ``rtmps://`` with a host and a path; its stream key (the
last path segment, any query, any password) is shown only masked and scrubbed from every text
that could reach a log or an API answer (ffmpeg prints the URL in its errors). Pure.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from streaming.errors import InvalidArgument
from streaming.ffmpeg_args import redact_url

MAX_URL = 1024
MASK = "••••"
URL_PROBLEM = (
    "must be an rtmp:// or rtmps:// URL with a host and a path, "
    "like rtmp://a.rtmp.youtube.com/live2/<stream key>"
)
_SCHEMES = frozenset({"rtmp", "rtmps"})


def check_push_url(url: str) -> str:
    """Return ``url`` if it can be a restream destination; raise ``InvalidArgument`` if not."""
    if len(url) > MAX_URL:
        raise InvalidArgument("url", f"must be at most {MAX_URL} characters")
    if not url.isascii() or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise InvalidArgument("url", URL_PROBLEM)
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError when the port is not a number in range
    except ValueError:
        raise InvalidArgument("url", URL_PROBLEM) from None
    if (
        parts.scheme not in _SCHEMES
        or not parts.hostname
        or not parts.path.strip("/")
        or parts.fragment
    ):
        raise InvalidArgument("url", URL_PROBLEM)
    return url


def url_secrets(url: str) -> list[str]:
    """The parts of ``url`` that are secret: the stream key (last path segment), the query and
    any user name and password, longest first."""
    parts = urlsplit(url)
    found = [parts.path.rstrip("/").rpartition("/")[2], parts.query]
    with contextlib.suppress(ValueError):
        found += [parts.username or "", parts.password or ""]
    return sorted({s for s in found if s}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` with the URL redacted and every secret part of it replaced by ``***``."""
    text = text.replace(url, redact_url(url))
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return text


def mask_url(url: str) -> str:
    """The URL as an API may show it: no credentials, the stream key masked but for its last
    four characters when it is long enough (``rtmp://host/live2/••••abcd``), no query."""
    parts = urlsplit(url)
    head, _, key = parts.path.rstrip("/").rpartition("/")
    if not key:
        shown = parts.path
    elif len(key) >= 12:
        shown = f"{head}/{MASK}{key[-4:]}"
    else:
        shown = f"{head}/{MASK}"
    netloc = parts.hostname or ""
    with contextlib.suppress(ValueError):
        if parts.port:
            netloc += f":{parts.port}"
    query = f"?{MASK}" if parts.query else ""
    return f"{parts.scheme}://{netloc}{shown}{query}"
