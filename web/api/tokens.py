"""Access tokens for operators, moderators and admins."""

from __future__ import annotations

from aiohttp import web

from studio.models import TokenInput
from web.auth import principal
from web.keys import PROGRAMME
from web.views import TokenCreated, TokenView, token_created, token_view


async def list_tokens(request: web.Request) -> list[TokenView]:
    """Every token (never the secrets)."""
    return [
        token_view(t) for t in await request.app[PROGRAMME].list_tokens(await principal(request))
    ]


async def create_token(request: web.Request, body: TokenInput) -> TokenCreated:
    """Issue a token; its secret is in this answer only."""
    token, secret = await request.app[PROGRAMME].create_token(await principal(request), body)
    return token_created(token, secret)


async def revoke_token(request: web.Request) -> None:
    """Revoke a token and its browser sign-ins."""
    await request.app[PROGRAMME].revoke_token(
        await principal(request), request.match_info["token_id"]
    )
