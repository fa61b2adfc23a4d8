"""Node to node: the runs a node recorded of a session, for the node that builds its recording
(``streaming.handover``; routes in ``web.routes``).

    GET /internal/media/{session_id}/runs          this node's ``RunListing`` of the session
    GET /internal/media/{session_id}/runs/{name}   one of its init segments or segments

Only the deployment's nodes may ask: a request carries ``X-Torget-Node-Pass``, the session id
signed with the key every node shares (``Signer``) for a few minutes. ``NodeRuns`` is the
asking side (``streaming.handover.RunSource``). See ``docs/architecture.md`` ("Media failover").
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import msgspec
from aiohttp import web

from streaming.errors import RunsUnreachable
from streaming.handover import RunListing, list_runs, media_file
from studio.errors import Forbidden
from studio.signing import Signer
from web.errors import error_response
from web.keys import MEDIA, SIGNER

PASS_HEADER = "X-Torget-Node-Pass"  # noqa: S105 (a header name)
PURPOSE = "media-runs"
PASS_SECONDS = 300
TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=3.0, sock_read=30.0)
FILE_TYPE = "video/mp4"


def node_pass(signer: Signer, session_id: str, now: float) -> str:
    """What a node sends to fetch another node's runs of ``session_id``."""
    return signer.sign(PURPOSE, session_id, int(now) + PASS_SECONDS)


def _directory(request: web.Request) -> Path:
    """The session's media directory, once the caller showed a node's pass for it."""
    session_id = request.match_info["session_id"]
    signed = request.headers.get(PASS_HEADER, "")
    if request.app[SIGNER].unsign(PURPOSE, signed, int(time.time())) != session_id:
        raise Forbidden("only the deployment's nodes may fetch a session's recorded runs")
    return request.app[MEDIA].recordings.directory(session_id)


async def listing(request: web.Request) -> RunListing:
    """What this node recorded of the session: run journal, claim journal, file names."""
    return await asyncio.to_thread(list_runs, _directory(request))


async def run_file(request: web.Request) -> web.StreamResponse:
    """One init segment or segment (``.tmp``: one cut short) this node recorded."""
    directory = _directory(request)
    name = request.match_info["name"]
    if media_file(name) is None or not await asyncio.to_thread((directory / name).is_file):
        return error_response(404, "not_found", "this node holds no such file of the session")
    return web.FileResponse(
        directory / name, headers={"Content-Type": FILE_TYPE, "Cache-Control": "no-store"}
    )


class NodeRuns:
    """Fetches another node's runs of a session (``streaming.handover.RunSource``)."""

    def __init__(self, client: aiohttp.ClientSession, signer: Signer) -> None:
        self.client = client
        self.signer = signer

    async def _get(self, url: str, session_id: str) -> bytes:
        headers = {PASS_HEADER: node_pass(self.signer, session_id, time.time())}
        try:
            async with self.client.get(url, headers=headers, timeout=TIMEOUT) as answer:
                body = await answer.read()
                if answer.status != 200:
                    raise RunsUnreachable(f"{url} answered {answer.status}")
                return body
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RunsUnreachable(f"{url}: {exc or type(exc).__name__}") from None

    async def listing(self, node_url: str, session_id: str) -> RunListing:
        """The node's ``RunListing`` of the session."""
        body = await self._get(f"{node_url}/internal/media/{session_id}/runs", session_id)
        try:
            return msgspec.json.decode(body, type=RunListing)
        except msgspec.MsgspecError as exc:
            raise RunsUnreachable(f"{node_url} sent an unreadable listing: {exc}") from None

    async def download(self, node_url: str, session_id: str, name: str, into: Path) -> None:
        """Write the node's file ``name`` of the session to ``into``."""
        url = f"{node_url}/internal/media/{session_id}/runs/{name}"
        await asyncio.to_thread(into.write_bytes, await self._get(url, session_id))
