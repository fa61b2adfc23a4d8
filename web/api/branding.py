"""The event's branding: its name, colours and logo for every page (``/branding.css``), the
slates and the hall screen; the admin sets them."""

from __future__ import annotations

import msgspec
from aiohttp import web

from streaming.errors import InvalidMedia
from streaming.logo import LOGO_TYPES, MAX_LOGO_BYTES, SVG_TYPE, check_logo
from studio.branding import Branding
from web.auth import principal
from web.errors import error_response
from web.keys import MEDIA, PROGRAMME, URLS
from web.validation import read_body

CSS_TYPE = "text/css"
LOGO_PATH = "/branding/logo"


class BrandingView(msgspec.Struct, kw_only=True):
    """The event's name, its colours (``#rrggbb``; empty: the built-in look) and its logo's
    address (null without one). The same colours are CSS variables in ``/branding.css``."""

    name: str
    background: str
    text: str
    accent: str
    logo: str | None


async def _view(request: web.Request, branding: Branding) -> BrandingView:
    logo = await request.app[PROGRAMME].logo()
    return BrandingView(
        name=branding.name,
        background=branding.background,
        text=branding.text,
        accent=branding.accent,
        logo=None if logo is None else f"{request.app[URLS].base}{LOGO_PATH}",
    )


def follow(request: web.Request, branding: Branding) -> None:
    """Slates started from now on on this node take the branding."""
    plane = request.app.get(MEDIA)
    if plane is not None:
        plane.config.pipeline.slate_look.follow(branding.background, branding.text, branding.name)


async def get_branding(request: web.Request) -> BrandingView:
    """The event's branding."""
    return await _view(request, await request.app[PROGRAMME].branding())


async def set_branding(request: web.Request, body: Branding) -> BrandingView:
    """Set the name and colours (admin); a colour pair below 4.5:1 contrast is refused."""
    saved = await request.app[PROGRAMME].set_branding(await principal(request), body)
    follow(request, saved)
    return await _view(request, saved)


async def reset_branding(request: web.Request) -> BrandingView:
    """Back to the name and colours of the settings (admin)."""
    saved = await request.app[PROGRAMME].reset_branding(await principal(request))
    follow(request, saved)
    return await _view(request, saved)


async def put_logo(request: web.Request) -> web.StreamResponse:
    """Upload the logo (admin): a PNG, JPEG or WebP picture that decodes, at most 512 KiB."""
    who = await principal(request)
    programme = request.app[PROGRAMME]
    programme.check_branding_access(who)
    if request.content_type == SVG_TYPE:
        message = "an SVG logo is not accepted (it can carry scripts): use PNG, JPEG or WebP"
        return error_response(415, "unsupported_media_type", message)
    data = await read_body(request, media_types=tuple(LOGO_TYPES))
    if len(data) > MAX_LOGO_BYTES:
        message = f"the logo is {len(data)} bytes; at most {MAX_LOGO_BYTES} are accepted"
        return error_response(413, "payload_too_large", message)
    try:
        check_logo(data, request.content_type)
    except InvalidMedia as exc:
        return error_response(422, "invalid_input", exc.message, "logo")
    await programme.set_logo(who, request.content_type, data)
    return web.json_response(
        msgspec.to_builtins(await _view(request, await programme.branding())), status=200
    )


async def delete_logo(request: web.Request) -> None:
    """Remove the logo (admin)."""
    await request.app[PROGRAMME].remove_logo(await principal(request))


async def logo(request: web.Request) -> web.StreamResponse:
    """The logo picture (404 without one)."""
    stored = await request.app[PROGRAMME].logo()
    if stored is None:
        return error_response(404, "not_found", "the event has no logo")
    return web.Response(
        body=stored.content,
        content_type=stored.media_type,
        headers={"Cache-Control": "public, max-age=60", "X-Content-Type-Options": "nosniff"},
    )


def branding_css(branding: Branding) -> str:
    """The CSS variables of the branding (nothing without colours). ``:root:root`` outranks the
    stylesheet's own ``:root`` (light and dark), whichever loads last."""
    if not branding.coloured:
        return "/* the built-in look */\n"
    bg, fg, accent = branding.background, branding.text, branding.accent
    return (
        ":root:root {\n"
        f"  --bg: {bg};\n  --card: {bg};\n  --fg: {fg};\n  --muted: {fg};\n"
        f"  --line: {fg};\n  --accent: {accent};\n  --accent-fg: {bg};\n"
        f"  --brand-bg: {bg};\n  --brand-text: {fg};\n  --brand-accent: {accent};\n"
        "}\n"
    )


async def css(request: web.Request) -> web.StreamResponse:
    """``/branding.css``: the event's colours as CSS variables for every page."""
    branding = await request.app[PROGRAMME].branding()
    return web.Response(
        text=branding_css(branding),
        content_type=CSS_TYPE,
        headers={"Cache-Control": "public, max-age=30"},
    )
