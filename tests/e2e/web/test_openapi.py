"""The OpenAPI document describes exactly the routes and bodies the server accepts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from web.errors import error_codes


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningApp]:
    """A running Torget."""
    async with running_app(settings_for(sqlite_url(tmp_path))) as running:
        yield running


async def document(app: RunningApp) -> dict[str, Any]:
    """The served OpenAPI document."""
    answer = await app.client.get("/api/v1/openapi.json")
    assert answer.status == 200
    body: dict[str, Any] = await answer.json()
    return body


async def test_every_served_route_is_documented_and_nothing_else(app: RunningApp) -> None:
    """The document's paths and methods equal the application's router."""
    doc = await document(app)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.web_app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == served


async def test_session_body_schema_matches_what_is_enforced(app: RunningApp) -> None:
    """Required fields, limits and unknown-field refusal in the schema are those enforced."""
    doc = await document(app)
    op = doc["paths"]["/api/v1/sessions"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"studio_id", "title", "starts_at", "ends_at"}
    assert schema["properties"]["title"]["maxLength"] == 200
    assert schema["additionalProperties"] is False
    assert op["x-torget-roles"] == ["admin", "operator"]
    assert {"401", "403", "409", "422", "201"} <= set(op["responses"])
    too_long = {
        "studio_id": "x",
        "title": "x" * 201,
        "starts_at": "2026-05-20T09:00:00Z",
        "ends_at": "2026-05-20T10:00:00Z",
    }
    answer = await app.client.post("/api/v1/sessions", json=too_long, headers=app.admin)
    assert answer.status == 422


async def test_error_schema_is_the_shape_errors_have(app: RunningApp) -> None:
    """Documented error bodies have the fields real error answers carry."""
    doc = await document(app)
    error = doc["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message"}
    answer = await app.client.get("/api/v1/sessions/ses_nope")
    body = await answer.json()
    assert set(body["error"]) <= set(error["properties"])


async def test_head_is_served_for_every_get_and_the_document_says_so(app: RunningApp) -> None:
    """The router answers HEAD exactly on the GET paths, as the document's description says."""
    doc = await document(app)
    heads = {
        r.resource.canonical
        for r in app.web_app.router.routes()
        if r.resource is not None and r.method == "HEAD"
    }
    gets = {p for p, ops in doc["paths"].items() if "get" in ops}
    assert heads == gets
    assert doc["info"]["description"].startswith(
        "Every GET operation also answers HEAD with the same status and headers and no body."
    )


async def test_the_document_names_every_error_code_the_server_answers(app: RunningApp) -> None:
    """Each (status, code) of the error tables is in the description, with its status."""
    description = (await document(app))["info"]["description"]
    for status, code in error_codes():
        assert f"{code} ({status})" in description
    assert "invalid_input (422)" in description
    answer = await app.client.post("/api/v1/studios", json={"name": ""}, headers=app.admin)
    assert (await answer.json())["error"]["code"] in {code for _, code in error_codes()}
