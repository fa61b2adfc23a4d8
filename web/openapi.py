"""The OpenAPI 3.1 document, generated from the route table and the structs the server decodes."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from web.endpoint import Route
from web.errors import ErrorBody, error_codes

_REF = "#/components/schemas/{name}"
HEAD_NOTE = (
    "Every GET operation also answers HEAD with the same status and headers and no body. "
    'Errors are JSON: {"error": {"code", "message", "field"}}; field names the input a refusal '
    "is about: for invalid_input (422) a body field (starts_at, url) or a place in a programme "
    "file (sessions[3].starts_at, row 5.ends_at), for bad_request (400) a query parameter "
    "(format). "
)
_PARAM = re.compile(r"{(\w+)}")
_REASONS = {
    400: "The body cannot be read (not JSON, or empty)",
    401: "No credentials, or credentials that are not valid",
    403: "The caller's role or studios do not allow this",
    404: "No such id",
    409: "Clashes with the current state (overlap, lifecycle step not allowed)",
    410: "No longer valid (an expired or replaced join code)",
    413: "The body is larger than the server accepts",
    415: "The body's Content-Type is not accepted",
    422: "A field has a wrong value; the answer names it",
    429: "Too many wrong access codes from this address; Retry-After says when to try again",
    503: "The store is unavailable",
}


def describe() -> str:
    """The document's description: HEAD, the error shape and every error code."""
    codes = ", ".join(f"{code} ({status})" for status, code in error_codes())
    return f"{HEAD_NOTE}Error codes: {codes}; http_error for any other refusal of the HTTP layer."


def build(routes: tuple[Route, ...], *, title: str, version: str, server: str) -> dict[str, Any]:
    """Return the OpenAPI document describing ``routes``."""
    types: list[Any] = [ErrorBody]
    for route in routes:
        for kind in (route.body, route.response):
            if kind is not None and kind not in (str, bytes):
                types.append(kind)
    schemas, components = msgspec.json.schema_components(types, ref_template=_REF)
    by_type = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, by_type)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": describe()},
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "torget_session"},
            },
        },
    }


def _operation(route: Route, by_type: dict[Any, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.handler.__name__.lstrip("_"),
        "tags": [route.tag],
    }
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(route.path)
    ]
    for query in route.query:
        schema: dict[str, Any] = {"type": "string"}
        if query.enum:
            schema["enum"] = list(query.enum)
        params.append(
            {"name": query.name, "in": "query", "description": query.description, "schema": schema}
        )
    if params:
        op["parameters"] = params
    if route.body is str:
        op["requestBody"] = {
            "required": True,
            "content": {m: {"schema": {"type": "string"}} for m in route.body_media_types},
        }
    elif route.body is bytes:
        binary = {"type": "string", "format": "binary"}
        op["requestBody"] = {
            "required": True,
            "content": {m: {"schema": binary} for m in route.body_media_types},
        }
    elif route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": by_type[route.body]}},
        }
    ok: dict[str, Any] = {"description": "Done"}
    if route.response is not None:
        ok["content"] = {m: {"schema": by_type[route.response]} for m in route.media_types}
    elif route.status != 204:
        ok["content"] = {m: {} for m in route.media_types}
    responses: dict[str, Any] = {str(route.status): ok}
    codes = set(route.errors)
    if route.body is not None:
        codes |= {400, 413, 415, 422}
    if route.roles:
        codes |= {401, 403}
        op["security"] = [{"bearer": []}, {"cookie": []}]
        op["x-torget-roles"] = sorted(r.value for r in route.roles)
    if route.viewer_gate:
        codes |= {401, 429}
    error = {"application/json": {"schema": by_type[ErrorBody]}}
    for code in sorted(codes):
        responses[str(code)] = {"description": _REASONS[code], "content": error}
    op["responses"] = responses
    return op
