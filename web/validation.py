"""Read request bodies into typed structs (errors explained by ``studio.validation``)."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from aiohttp import web

from studio.errors import InvalidInput
from studio.validation import explain
from web.errors import BadRequest, PayloadTooLarge, Unsupported

T = TypeVar("T")


def decode(raw: bytes, kind: type[T]) -> T:
    """Decode JSON ``raw`` into ``kind``; raise BadRequest or InvalidInput with the field."""
    if not raw.strip():
        raise BadRequest("the request needs a JSON body")
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        field, problem = explain(exc)
        raise InvalidInput(field, problem) from None
    except msgspec.DecodeError:
        raise BadRequest("the body is not valid JSON") from None


async def read_body(request: web.Request, *, media_types: tuple[str, ...]) -> bytes:
    """Read the body after checking its media type and size."""
    if request.content_type not in media_types:
        raise Unsupported(
            f"send the body as {' or '.join(media_types)}, not {request.content_type or 'nothing'}"
        )
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(
            f"the request body is larger than the limit of {request.app._client_max_size} bytes"
        ) from None


async def json_body(request: web.Request, kind: type[T]) -> T:
    """Read and decode a JSON request body into ``kind``."""
    return decode(await read_body(request, media_types=("application/json",)), kind)
