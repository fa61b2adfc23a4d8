"""Studio channels and the hall: what a channel has on air, the hall's join code and its QR code.

The decisions are ``studio.channel`` and ``studio.hall``; this module only presents them.
"""

from __future__ import annotations

import io
from datetime import datetime

import msgspec
import segno
from aiohttp import web

from studio.channel import ChannelNow
from studio.hall import JoinCode
from studio.models import Session, Studio
from web.auth import principal, require_viewer_access
from web.keys import PROGRAMME, URLS
from web.views import ChannelUrls, SessionView, Urls, session_view

SVG_TYPE = "image/svg+xml"


class ChannelView(msgspec.Struct, kw_only=True):
    """A studio's channel now: the session on air (None between sessions), the next one, and
    whether playout fills the gaps with earlier replays."""

    studio_id: str
    studio_name: str
    playout: bool
    on_air: SessionView | None
    next_up: SessionView | None
    replays: int
    urls: ChannelUrls


class JoinCodeView(msgspec.Struct, kw_only=True):
    """A studio's join code: the number, the short address it opens, its QR code, its end."""

    code: str
    studio_id: str
    url: str
    qr: str
    expires_at: datetime


class JoinView(JoinCodeView, kw_only=True):
    """What a join code opens: the studio's channel now."""

    channel: ChannelView


def _channel_view(studio: Studio, now: ChannelNow, urls: Urls) -> ChannelView:
    def view(session: Session | None) -> SessionView | None:
        return None if session is None else session_view(session, studio.name, urls)

    return ChannelView(
        studio_id=studio.id,
        studio_name=studio.name,
        playout=studio.playout,
        on_air=view(now.on_air),
        next_up=view(now.next_up),
        replays=len(now.replays),
        urls=urls.channel(studio.id),
    )


def _code_view(found: JoinCode, urls: Urls) -> JoinCodeView:
    return JoinCodeView(
        code=found.code,
        studio_id=found.studio_id,
        url=urls.join(found.code),
        qr=f"{urls.base}/api/v1/studios/{found.studio_id}/join-code.svg",
        expires_at=found.expires_at,
    )


async def channel(request: web.Request) -> ChannelView:
    """What the studio's channel shows now."""
    await require_viewer_access(request)
    studio, now = await request.app[PROGRAMME].channel(request.match_info["studio_id"])
    return _channel_view(studio, now, request.app[URLS])


async def join_code(request: web.Request) -> JoinCodeView:
    """The studio's valid join code (issued on first use)."""
    await require_viewer_access(request)
    found = await request.app[PROGRAMME].join_code(request.match_info["studio_id"])
    return _code_view(found, request.app[URLS])


async def renew_join_code(request: web.Request) -> JoinCodeView:
    """A new join code for the studio; the old one stops working at once."""
    who = await principal(request)
    found = await request.app[PROGRAMME].renew_join_code(who, request.match_info["studio_id"])
    return _code_view(found, request.app[URLS])


async def join_code_svg(request: web.Request) -> web.Response:
    """The QR code of the studio's join address, as SVG (drawn here, never fetched)."""
    await require_viewer_access(request)
    found = await request.app[PROGRAMME].join_code(request.match_info["studio_id"])
    return web.Response(
        body=qr_svg(request.app[URLS].join(found.code)),
        content_type=SVG_TYPE,
        headers={"Cache-Control": "no-cache"},
    )


async def resolve(request: web.Request) -> JoinView:
    """What a join code opens (404 unknown, 410 expired)."""
    found, studio, now = await request.app[PROGRAMME].resolve_join_code(request.match_info["code"])
    urls = request.app[URLS]
    base = msgspec.structs.asdict(_code_view(found, urls))
    return JoinView(**base, channel=_channel_view(studio, now, urls))


def qr_svg(text: str) -> bytes:
    """A QR code of ``text`` as a standalone SVG: black on white, a quiet zone of four modules,
    scaled by its viewBox (medium error correction: a projector's glare spares it)."""
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(
        out, kind="svg", scale=1, border=4, xmldecl=False, svgns=True, nl=False, omitsize=True,
        dark="#000", light="#fff", title="QR code",
    )  # fmt: skip
    return out.getvalue()
