"""Interpreters publish their voice (WHIP, sound only): ``POST /whip/{session_id}/interpret/
{language}`` and ``DELETE`` on its resource.

The caller is an interpreter (or admin): ``Authorization: Bearer <interpreter token>`` or a
browser sign-in of one. The programme checks their studio, the language and that the session is
live; the media plane (``streaming.whip.interpreter``) refuses video and a second interpreter of
the language. 201 carries the SDP answer, ``Location`` and ``ETag`` as for WHIP
(docs/interpretation.md).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from realtime.engine import Engine
from studio.interaction.facts import InterpretationChanged, encode_fact
from web.auth import principal
from web.keys import MEDIA, PROGRAMME
from web.media.offers import read_offer
from web.media.whip import created

log = logging.getLogger(__name__)


async def publish(request: web.Request) -> web.StreamResponse:
    """Go on air as the session's interpreter of a language: the SDP offer in, the answer out."""
    session_id = request.match_info["session_id"]
    language = request.match_info["language"]
    who = await principal(request)
    await request.app[PROGRAMME].session_to_interpret(who, session_id, language)
    offer = await read_offer(request)
    peer = request.remote or "unknown peer"
    answer = await request.app[MEDIA].interpreters.publish(session_id, language, offer, peer=peer)
    return created(answer, f"/whip/{session_id}/interpret/{language}/{answer.resource_id}")


async def unpublish(request: web.Request) -> web.StreamResponse | None:
    """Stop interpreting (the interpreter's DELETE on the resource)."""
    session_id = request.match_info["session_id"]
    who = await principal(request)
    programme = request.app[PROGRAMME]
    session = await programme.get_session(session_id)
    programme.check_interpret_access(who, session)
    await request.app[MEDIA].interpreters.delete(session_id, request.match_info["resource_id"])
    return None


class InterpretationNotices:
    """Tells a session's room when an interpreter goes live or drops (an ``interpretation``
    event: the player shows that the language carries the original sound meanwhile). A
    listener of ``InterpretationDesk.on_change``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, session_id: str, language: str, live: bool) -> None:
        task = asyncio.create_task(self._send(session_id, language, live), name="interpretation")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, session_id: str, language: str, live: bool) -> None:
        fact = InterpretationChanged(language=language, live=live)
        try:
            await self.engine.append(session_id, encode_fact(fact))
        except Exception:  # the room misses a notice; the sound falls back all the same
            log.exception("session %s: the interpretation notice was not sent", session_id)

    async def close(self) -> None:
        """Wait for the notices under way."""
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
