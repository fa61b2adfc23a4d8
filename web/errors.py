"""Errors of the HTTP edge and how every failure becomes a JSON answer.

    WebError                  an answer we chose to give, with status, code and message
    ├── BadRequest            400: the body is not JSON, or not the media type we accept
    ├── PayloadTooLarge       413: the body exceeds the configured limit
    ├── Unsupported           415: a Content-Type we do not read
    └── TooManyRequests       429: a limit is reached; ``Retry-After`` says when to try again

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


class TooManyRequests(WebError):
    """Too many attempts from one address (``retry_after``: whole seconds to wait)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
    (studio_errors.Expired, 410, "expired"),
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
    (media_errors.InterpreterBusy, 409, "conflict"),
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


def error_codes() -> list[tuple[int, str]]:
    """Every (status, code) an error answer can carry, for the API document."""
    found = {(status, code) for _, status, code in ANSWERS}
    found |= {(kind.status, kind.code) for kind in (BadRequest, PayloadTooLarge, Unsupported,
                                                     TooManyRequests)}  # fmt: skip
    found |= {(status, code) for status, (code, _) in _HTTP_MESSAGES.items()}
    found.add((500, "internal_error"))
    return sorted(found)


def error_response(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    """A JSON error answer."""
    body = msgspec.json.encode(ErrorBody(ErrorDetail(code, message, field)))
    response = web.Response(status=status, body=body, content_type="application/json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="torget"'
    return response


def error_detail(exc: DomainError) -> tuple[int, ErrorDetail] | None:
    """The status and detail of a programme or media-plane error (``ANSWERS``), or None
    without a row. A bad value names its field."""
    for kind, status, code in ANSWERS:
        if isinstance(exc, kind):
            if isinstance(exc, studio_errors.InvalidInput | media_errors.InvalidArgument):
                message = f"{exc.field}: {exc.problem}" if exc.field else exc.problem
                return status, ErrorDetail(code, message, exc.field or None)
            return status, ErrorDetail(code, exc.message)
    return None


def answer_for(exc: DomainError) -> web.Response | None:
    """The answer to a programme or media-plane error (``error_detail``), or None without a
    row. A full WebRTC server asks to retry later."""
    found = error_detail(exc)
    if found is None:
        return None
    status, detail = found
    response = error_response(status, detail.code, detail.message, detail.field)
    if isinstance(exc, media_errors.WhepFull):
        response.headers["Retry-After"] = WHEP_RETRY_AFTER
    return response


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into a JSON answer; never leak a traceback to the client."""
    try:
        return await handler(request)
    except WebError as exc:
        answer = error_response(exc.status, exc.code, exc.message, exc.field)
        if isinstance(exc, TooManyRequests):
            answer.headers["Retry-After"] = str(exc.retry_after)
        return answer
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
