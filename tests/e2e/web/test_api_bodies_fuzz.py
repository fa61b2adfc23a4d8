"""Generated request bodies for the main write endpoints against a running node (Hypothesis).

Valid, near-valid and hostile bodies (extreme dates and offsets, wrong types, control
characters, unknown fields, bad JSON, wrong media types, programme files): every request is
answered with a 2xx or 4xx status, every answer but a 204 is JSON (errors in the documented
shape), and the server logs no error. The schemathesis test (``test_api_fuzz.py``) checks the
answers against the OpenAPI document; this one aims at the values the schema cannot rule out.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url

EXAMPLES = 400
STUDIO, SESSION = "{studio}", "{session}"  # replaced by the real ids
Request = tuple[str, str, str, bytes]  # method, path, content type, body


def _instants() -> st.SearchStrategy[str]:
    offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
    anywhere = st.builds(
        lambda d, tz: d.replace(tzinfo=tz).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
        offsets,
    )
    edges = st.sampled_from([
        "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:00:00Z",
        "1999-12-31T23:59:59Z", "2101-01-01T00:00:00Z", "2100-12-31T23:30:00-01:00",
        "2026-05-20T09:00:00", "2026-02-30T09:00:00Z", "2026-05-20", "tomorrow", "",
    ])  # fmt: skip
    usual = st.integers(0, 600).map(
        lambda m: (datetime(2026, 5, 20, 7, tzinfo=UTC) + timedelta(minutes=m))
        .isoformat()
    )  # fmt: skip
    return st.one_of(usual, usual, usual, anywhere, edges)


def _texts() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.text(max_size=30),
        st.sampled_from(["Stora scenen", " ", "\u0000", "a\nb", "=1+2", "x" * 201, "x" * 5001,
                         "<script>alert(1)</script>", "\ud7ff\U0010ffff"]),
    )  # fmt: skip


def _hostile() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                    max_size=3),
        max_leaves=8,
    )  # fmt: skip


def _near(valid: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid body with one field changed to something else, or one field added or dropped."""

    def mutate(body: dict[str, Any], key: str, value: Any, how: int) -> dict[str, Any]:
        changed = dict(body)
        if how == 0 and changed:
            changed.pop(sorted(changed)[hash(key) % len(changed)])
        elif how == 1:
            changed[key] = value
        elif changed:
            changed[sorted(changed)[hash(key) % len(changed)]] = value
        return changed

    values = st.one_of(_hostile(), _texts(), _instants(), st.integers(-(10**20), 10**20))
    return st.builds(mutate, valid, st.text(max_size=10), values, st.integers(0, 2))


def _bodies() -> st.SearchStrategy[Request]:
    session = st.fixed_dictionaries(
        {"studio_id": st.just(STUDIO) | _texts(), "title": _texts(), "starts_at": _instants(),
         "ends_at": _instants()},
        optional={"description": _texts(), "speakers": st.lists(_texts(), max_size=32),
                  "language": st.sampled_from(["sv", "en-GB", "xx-", "SV", ""]),
                  "auto_start": st.booleans(), "auto_end": st.booleans(),
                  "qa_auto_approve": st.booleans()},
    )  # fmt: skip
    patch = st.fixed_dictionaries(
        {}, optional={"title": _texts(), "starts_at": _instants(), "ends_at": _instants(),
                      "studio_id": st.just(STUDIO) | _texts(), "speakers": st.lists(_texts())},
    )  # fmt: skip
    studio = st.fixed_dictionaries({"name": _texts()})
    token = st.fixed_dictionaries(
        {"role": st.sampled_from(["admin", "operator", "moderator", "viewer", "root"]),
         "name": _texts()},
        optional={"studio_ids": st.lists(st.just(STUDIO) | _texts(), max_size=3)},
    )  # fmt: skip
    restream = st.fixed_dictionaries(
        {"name": _texts(),
         "url": st.sampled_from(["rtmp://127.0.0.1:9/live/k", "rtmp://169.254.169.254/l/k",
                                 "rtmps://[::1]/a/b", "rtmp://8.8.8.8/live/k", "http://x/y",
                                 "rtmp://no-such-host.invalid/live/k", "rtmp://h", ""])},
        optional={"enabled": st.booleans()},
    )  # fmt: skip
    extend = st.fixed_dictionaries({"minutes": st.integers(-5, 10**6)})
    trim = st.fixed_dictionaries(
        {}, optional={"start_seconds": st.floats(allow_nan=True) | st.integers(),
                      "end_seconds": st.floats(allow_nan=True) | st.integers()},
    )  # fmt: skip
    viewer = st.fixed_dictionaries(
        {"display_name": _texts()}, optional={"access_code": st.text(max_size=10)}
    )
    login = st.fixed_dictionaries({"token": st.text(max_size=60)})
    s = f"/api/v1/sessions/{SESSION}"
    json_targets = st.sampled_from([
        ("POST", "/api/v1/sessions", session), ("PATCH", s, patch),
        ("POST", "/api/v1/studios", studio), ("PATCH", f"/api/v1/studios/{STUDIO}", studio),
        ("POST", "/api/v1/tokens", token), ("POST", f"{s}/restreams", restream),
        ("POST", f"{s}/extend", extend), ("PUT", f"{s}/recording/trim", trim),
        ("POST", "/api/v1/auth/viewer", viewer), ("POST", "/api/v1/auth/login", login),
    ])  # fmt: skip

    def as_json(target: tuple[str, str, Any], data: st.DataObject) -> Request:
        method, path, valid = target
        body = data.draw(st.one_of(valid, _near(valid), _hostile()))
        return method, path, "application/json", json.dumps(body).encode()

    raw = st.tuples(
        st.sampled_from(["POST", "PATCH"]),
        st.sampled_from(["/api/v1/sessions", f"/api/v1/studios/{STUDIO}", "/api/v1/tokens"]),
        st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                         ""]),
        st.binary(max_size=60) | st.sampled_from([b"{", b"[]", b"null", b'{"a":1}' * 3]),
    )  # fmt: skip
    return st.one_of(
        st.builds(as_json, json_targets, st.data()),
        raw,
        _programme_files(),
    )


def _programme_files() -> st.SearchStrategy[Request]:
    def yaml_file(title: str, starts: str, ends: str, extra: str) -> bytes:
        return (
            f"sessions:\n  - studio: Fuzz\n    title: {json.dumps(title)}\n"
            f"    starts_at: '{starts}'\n    ends_at: '{ends}'\n{extra}"
        ).encode()

    def csv_file(title: str, starts: str, ends: str, extra: str) -> bytes:
        return f"studio,title,starts_at,ends_at\nFuzz,{title},{starts},{ends}{extra}\n".encode()

    extras = st.sampled_from(["", "    state: cancelled\n", "    bogus: 1\n", "a: &a [*a]\n",
                              ",x", "timezone: Mars/Base\n", "\x00"])  # fmt: skip
    yaml = st.builds(yaml_file, _texts(), _instants(), _instants(), extras)
    csv = st.builds(csv_file, st.text(max_size=20), _instants(), _instants(), extras)
    return st.one_of(
        st.tuples(st.just("POST"), st.just("/api/v1/program/import"),
                  st.just("application/yaml"), yaml | st.binary(max_size=60)),
        st.tuples(st.just("POST"), st.just("/api/v1/program/import"), st.just("text/csv"),
                  csv | st.binary(max_size=60)),
    )  # fmt: skip


async def _send(app: RunningApp, ids: dict[str, str], request: Request) -> int:
    method, path, content_type, body = request
    headers = dict(app.admin)
    if content_type:
        headers["Content-Type"] = content_type
    answer = await app.client.request(method, path.format(**ids), data=body, headers=headers)
    text = await answer.read()
    status = answer.status
    assert 200 <= status < 500, (request, status, text[:300])
    if status == 204:
        return status
    assert answer.content_type == "application/json", (request, status, answer.content_type)
    decoded = json.loads(text)
    if status >= 400:
        error = decoded["error"]
        assert set(error) <= {"code", "message", "field"}
        assert error["code"]
        assert error["message"]
    return status


@pytest.mark.slow
async def test_generated_bodies_get_json_answers_and_no_server_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A few hundred generated bodies: never a 5xx, always JSON, no error logged, and the
    bodies reach the rules (created, refused as invalid, conflicting, unreadable)."""
    settings_ = settings_for(sqlite_url(tmp_path), TORGET_MEDIA_ENABLED="false")
    async with running_app(settings_) as app:
        studio = await app.client.post("/api/v1/studios", json={"name": "Hall"}, headers=app.admin)
        studio_id = (await studio.json())["id"]
        body = {"studio_id": studio_id, "title": "Fuzzed", "starts_at": "2026-05-21T09:00:00Z",
                "ends_at": "2026-05-21T10:00:00Z"}  # fmt: skip
        session = await app.client.post("/api/v1/sessions", json=body, headers=app.admin)
        ids = {"studio": studio_id, "session": (await session.json())["id"]}
        caplog.clear()
        loop = asyncio.get_running_loop()
        statuses: Counter[int] = Counter()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(_bodies())
        # A valid studio, so a run that draws no valid create body still reaches a 201.
        @example(("POST", "/api/v1/studios", "application/json", b'{"name": "Stora scenen"}'))
        # And an unknown studio, so a run that draws no unknown id still reaches a 404.
        @example(
            (
                "POST",
                "/api/v1/sessions",
                "application/json",
                b'{"studio_id": "std_0000000000", "title": "Lost", '
                b'"starts_at": "2026-05-21T09:00:00Z", "ends_at": "2026-05-21T10:00:00Z"}',
            )
        )
        def exchange(request: Request) -> None:
            sent = asyncio.run_coroutine_threadsafe(_send(app, ids, request), loop)
            statuses[sent.result(30)] += 1

        await asyncio.to_thread(exchange)
        assert {200, 201, 400, 404, 409, 415, 422} <= set(statuses), statuses
    gc.collect()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
