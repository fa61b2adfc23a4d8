"""Who is calling: bearer tokens for the API, a cookie with CSRF protection for the browser apps,
and signed viewer passes when the event asks for an access code.
"""

from __future__ import annotations

import math
import time

import msgspec
from aiohttp import web

from studio.access import Principal
from studio.errors import Forbidden, Unauthenticated
from studio.interaction.playback import client_address
from studio.interaction.viewer_pass import PassHolder, issue_pass, read_pass
from studio.models import Name
from studio.secrets import new_id, same_secret
from web.errors import TooManyRequests
from web.keys import CODE_ATTEMPTS, PROGRAMME, SETTINGS, SIGNER

SESSION_COOKIE = "torget_session"
VIEWER_COOKIE = "torget_viewer"
CSRF_HEADER = "X-CSRF-Token"
ACCESS_CODE_HEADER = "X-Access-Code"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PRINCIPAL: web.RequestKey[Principal | None] = web.RequestKey("principal")
VIEWER_PASS_DAYS = 7


class LoginInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /api/v1/auth/login``: trade a token for a browser sign-in."""

    token: str


class SignedIn(msgspec.Struct, kw_only=True):
    """Who is signed in, and the CSRF token to send with every change."""

    token_id: str
    role: str
    name: str
    studio_ids: list[str]
    csrf_token: str


class SignInState(msgspec.Struct, kw_only=True):
    """Whether the browser is signed in as staff, and if so as whom (never a 401: a page asks
    this on every load, signed in or not)."""

    signed_in: bool
    me: SignedIn | None = None


class ViewerInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /api/v1/auth/viewer``: a display name and, if the event asks, its code."""

    display_name: Name
    access_code: str = ""


class ViewerPass(msgspec.Struct, kw_only=True):
    """A viewer's identity for taking part (the cookie carries the proof)."""

    viewer_id: str
    display_name: str
    viewer_pass: str


async def principal(request: web.Request) -> Principal | None:
    """The authenticated caller, or None for an anonymous viewer; raise on bad credentials."""
    if _PRINCIPAL in request:
        return request[_PRINCIPAL]
    found = await _authenticate(request)
    request[_PRINCIPAL] = found
    return found


async def _authenticate(request: web.Request) -> Principal | None:
    programme = request.app[PROGRAMME]
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("send the token as 'Authorization: Bearer <token>'")
        found = await programme.principal_for_secret(secret.strip())
        if found is None:
            raise Unauthenticated("the bearer token is not valid (mistyped or revoked)")
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    signed_in = await programme.principal_for_sign_in(cookie)
    if signed_in is None:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not same_secret(sent, csrf_token(request, cookie)):
            raise Forbidden(f"the {CSRF_HEADER} header is missing or wrong; reload the page")
    return signed_in


def csrf_token(request: web.Request, cookie: str) -> str:
    """The CSRF token that belongs to a browser sign-in (derived, so a reload can fetch it)."""
    return request.app[SIGNER].mac("csrf", cookie)


async def login(request: web.Request, body: LoginInput) -> web.Response:
    """Start a browser sign-in from a token: set the cookie, answer with the CSRF token."""
    settings = request.app[SETTINGS]
    signed_in = await request.app[PROGRAMME].sign_in(body.token.strip())
    token, cookie = signed_in.token, signed_in.cookie
    answer = SignedIn(
        token_id=token.id,
        role=token.role.value,
        name=token.name,
        studio_ids=list(token.studio_ids),
        csrf_token=csrf_token(request, cookie),
    )
    response = web.Response(body=msgspec.json.encode(answer), content_type="application/json")
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(signed_in.lifetime.total_seconds()),
        path="/",
        secure=settings.auth.cookie_secure,
        httponly=True,
        samesite="Strict",
    )
    return response


async def me(request: web.Request) -> SignedIn:
    """Who the browser is signed in as (and its CSRF token), or 401."""
    who = await principal(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if who is None:
        raise Unauthenticated("not signed in")
    return SignedIn(
        token_id=who.token_id,
        role=who.role.value,
        name=who.name,
        studio_ids=sorted(who.studio_ids),
        csrf_token=csrf_token(request, cookie) if cookie else "",
    )


async def sign_in_state(request: web.Request) -> SignInState:
    """``me`` when the browser is signed in, else ``signed_in: false`` (200 either way)."""
    try:
        return SignInState(signed_in=True, me=await me(request))
    except Unauthenticated:
        return SignInState(signed_in=False)


async def logout(request: web.Request) -> web.Response:
    """End the browser sign-in."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await principal(request)  # enforces the CSRF check for a cookie sign-in
        await request.app[PROGRAMME].sign_out(cookie)
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def code_is_right(request: web.Request, sent: str) -> bool:
    """Whether ``sent`` is the event's access code; wrong codes are limited per address
    (``[auth] access_code_attempts_per_minute``): past the limit every attempt from the address
    gets ``TooManyRequests`` (429 with ``Retry-After``), right or wrong, until it refills."""
    attempts, now = request.app[CODE_ATTEMPTS], time.monotonic()
    address = client_address(request.remote, request.headers.get("X-Forwarded-For"))
    wait = attempts.retry_after(address, now)
    if wait > 0:
        seconds = math.ceil(wait)
        raise TooManyRequests(
            f"too many wrong access codes from your address; try again in {seconds} s",
            retry_after=seconds,
        )
    if same_secret(sent, request.app[SETTINGS].event.access_code):
        return True
    attempts.allow(address, now)  # a wrong code takes a token
    return False


async def viewer_pass(request: web.Request, body: ViewerInput) -> web.Response:
    """Give an anonymous viewer an identity (and check the event's access code, if any)."""
    settings = request.app[SETTINGS]
    code = settings.event.access_code
    if code and not code_is_right(request, body.access_code.strip()):
        raise Forbidden("the access code is not right")
    viewer_id = new_id("vwr", 12)
    now = int(request.app[PROGRAMME].clock.now().timestamp())
    expires = now + VIEWER_PASS_DAYS * 86400
    name = body.display_name.strip()
    signed = issue_pass(request.app[SIGNER], viewer_id, name, expires)
    answer = ViewerPass(viewer_id=viewer_id, display_name=name, viewer_pass=signed)
    response = web.Response(body=msgspec.json.encode(answer), content_type="application/json")
    response.set_cookie(
        VIEWER_COOKIE,
        signed,
        max_age=VIEWER_PASS_DAYS * 86400,
        path="/",
        secure=settings.auth.cookie_secure,
        httponly=True,
        samesite="Lax",
    )
    return response


def viewer_id(request: web.Request) -> str | None:
    """The viewer id a request's pass proves, if any."""
    holder = pass_holder(request)
    return None if holder is None else holder.viewer_id


def pass_holder(request: web.Request) -> PassHolder | None:
    """Who a request's pass cookie names (viewer id and display name), if it has a valid one."""
    signed = request.cookies.get(VIEWER_COOKIE)
    if not signed:
        return None
    now = int(request.app[PROGRAMME].clock.now().timestamp())
    return read_pass(request.app[SIGNER], signed, now)


async def require_viewer_access(request: web.Request) -> None:
    """Pass when the event is open, or the caller has a role, the code, or a viewer pass."""
    code = request.app[SETTINGS].event.access_code
    if not code:
        return
    if viewer_id(request) is not None:
        return
    sent = request.headers.get(ACCESS_CODE_HEADER) or request.query.get("code", "")
    if sent and code_is_right(request, sent):
        return
    if await principal(request) is not None:
        return
    raise Unauthenticated(
        "this event asks for an access code: enter it on the event page "
        "(or send POST /api/v1/auth/viewer)"
    )
