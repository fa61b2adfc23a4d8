"""Studios: list, create, rename, delete."""

from __future__ import annotations

from aiohttp import web

from studio.models import StudioInput, StudioPatch
from web.auth import principal
from web.keys import PROGRAMME, URLS
from web.views import StudioView, studio_view


async def list_studios(request: web.Request) -> list[StudioView]:
    """Every studio."""
    studios = await request.app[PROGRAMME].list_studios()
    return [studio_view(s, request.app[URLS]) for s in studios]


async def get_studio(request: web.Request) -> StudioView:
    """One studio."""
    studio = await request.app[PROGRAMME].get_studio(request.match_info["studio_id"])
    return studio_view(studio, request.app[URLS])


async def create_studio(request: web.Request, body: StudioInput) -> StudioView:
    """Create a studio."""
    studio = await request.app[PROGRAMME].create_studio(await principal(request), body)
    return studio_view(studio, request.app[URLS])


async def update_studio(request: web.Request, body: StudioPatch) -> StudioView:
    """Rename a studio."""
    studio = await request.app[PROGRAMME].update_studio(
        await principal(request), request.match_info["studio_id"], body
    )
    return studio_view(studio, request.app[URLS])


async def delete_studio(request: web.Request) -> None:
    """Delete a studio without sessions."""
    await request.app[PROGRAMME].delete_studio(
        await principal(request), request.match_info["studio_id"]
    )
