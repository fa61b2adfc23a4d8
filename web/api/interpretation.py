"""Interpretation of a session as viewers and interpreters see it: the event's languages and
those an interpreter speaks now (docs/interpretation.md)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from web.keys import MEDIA, PROGRAMME


class InterpretationView(msgspec.Struct, kw_only=True):
    """The event's interpretation languages and the ones live in the session now (the others
    carry the original sound)."""

    languages: list[str]
    live: list[str]


async def interpretation(request: web.Request) -> InterpretationView:
    """Which of the event's interpretation languages have an interpreter in the session now."""
    session_id = request.match_info["session_id"]
    programme = request.app[PROGRAMME]
    await programme.get_session(session_id)  # 404 when there is none
    live = request.app[MEDIA].interpretation.live_languages(session_id)
    return InterpretationView(languages=list(programme.interpretation_languages), live=list(live))
