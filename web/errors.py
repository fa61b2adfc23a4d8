"""Errors of the HTTP edge and how every failure becomes a JSON answer.

    WebError                  an answer we chose to give, with status, code and message
    ├── BadRequest            400: the body is not JSON, or not the media type we accept
    ├── PayloadTooLarge       413: the body exceeds the configured limit
    └── Unsupported           415: a Content-Type we do not read

Errors from the programme (``studio.errors``), from the media plane (``streaming.errors``,
both by the table ``ANSWERS``) and aiohttp's own HTTP exceptions are mapped to the same JSON
shape by ``error_middleware``: ``{"error": {"code", "message", "field"?}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web

from streaming import errors as media_errors
from studio import errors as studio_errors

log = logging.getLogger(__name__)


class WebError(Exception):
    """An error answer: HTTP status, a stable machine code and a sentence for people."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadRequest(WebError):
    """The request cannot be read at all."""

    status = 400
    code = "bad_request"


class PayloadTooLarge(WebError):
    """The body is bigger than we accept."""

    status = 413
    code = "payload_too_large"


class Unsupported(WebError):
    """A media type we do not read."""

    status = 415
    code = "unsupported_media_type"


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    """What went wrong."""

    code: str
    message: str
    field: str | None = None


class ErrorBody(msgspec.Struct):
    """The body of every error answer."""

    error: ErrorDetail


DomainError = studio_errors.StudioError | media_errors.StreamingError

ANSWERS: list[tuple[type[DomainError], int, str]] = [
    # the programme
    (studio_errors.InvalidInput, 422, "invalid_input"),
    (studio_errors.NotFound, 404, "not_found"),
    (studio_errors.InvalidTransition, 409, "invalid_transition"),
    (studio_errors.ScheduleOverlap, 409, "schedule_overlap"),
    (studio_errors.Conflict, 409, "conflict"),
    (studio_errors.Unauthenticated, 401, "unauthenticated"),
    (studio_errors.Forbidden, 403, "forbidden"),
    (studio_errors.StoreUnavailable, 503, "store_unavailable"),
    # the media plane
    (media_errors.InvalidArgument, 422, "invalid_input"),
    (media_errors.BadDirective, 400, "bad_request"),
    (media_errors.WrongStreamKey, 401, "unauthenticated"),
    (media_errors.SessionOver, 409, "conflict"),
    (media_errors.PublisherPresent, 409, "conflict"),
    (media_errors.BadWhipOffer, 400, "bad_request"),
    (media_errors.UnknownWhipResource, 404, "not_found"),
    (media_errors.BadWhepOffer, 400, "bad_offer"),
    (media_errors.UnknownWhepViewer, 404, "not_found"),
    (media_errors.NotLive, 409, "not_live"),
    (media_errors.NothingToClip, 409, "conflict"),
    (media_errors.WhepFull, 503, "webrtc_full"),
]
"""How the programme's and the media plane's errors are answered: the first row whose class
the error is an instance of gives the status and code; an error without a row is a failure on
our side."""

WHEP_RETRY_AFTER = "30"
"""Seconds a viewer refused by a WebRTC viewer cap is asked to wait (``Retry-After``)."""

_HTTP_MESSAGES = {
    404: ("not_found", "there is nothing at this address"),
    405: ("method_not_allowed", "this address does not accept that method"),
    413: ("payload_too_large", "the request body is larger than this server accepts"),
}


def error_response(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    """A JSON error answer."""
    body = msgspec.json.encode(ErrorBody(ErrorDetail(code, message, field)))
    response = web.Response(status=status, body=body, content_type="application/json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="torget"'
    return response


def answer_for(exc: DomainError) -> web.Response | None:
    """The answer to a programme or media-plane error (``ANSWERS``), or None without a row.
    A bad value names its field; a full WebRTC server asks to retry later."""
    for kind, status, code in ANSWERS:
        if isinstance(exc, kind):
            field: str | None = None
            message = exc.message
            if isinstance(exc, studio_errors.InvalidInput | media_errors.InvalidArgument):
                field = exc.field or None
                message = f"{exc.field}: {exc.problem}" if exc.field else exc.problem
            response = error_response(status, code, message, field)
            if isinstance(exc, media_errors.WhepFull):
                response.headers["Retry-After"] = WHEP_RETRY_AFTER
            return response
    return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into a JSON answer; never leak a traceback to the client."""
    try:
        return await handler(request)
    except WebError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.field)
    except (studio_errors.StudioError, media_errors.StreamingError) as exc:
        response = answer_for(exc)
        if response is not None:
            return response
        if isinstance(exc, studio_errors.StudioError):
            raise
        log.exception("unhandled media error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "something went wrong on our side")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code, message = _HTTP_MESSAGES.get(exc.status, ("http_error", exc.reason))
        response = error_response(exc.status, code, message)
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "something went wrong on our side")
