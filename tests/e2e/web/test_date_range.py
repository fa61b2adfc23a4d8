"""Times out of the accepted range (years 2000 to 2100) get 422 naming the field, over real HTTP."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url

OUT_OF_RANGE = "must lie in the years 2000 to 2100 (UTC)"
# Near year 1 or 9999 a large offset made the server convert out of datetime's range (500).
NEAR_YEAR_1 = ("0001-01-01T00:00:00+14:00", "0001-01-01T01:00:00+14:00")
NEAR_YEAR_9999 = ("9999-12-31T20:00:00-14:00", "9999-12-31T21:00:00-14:00")
JUST_BEFORE = ("1999-12-31T23:00:00Z", "1999-12-31T23:59:00Z")
JUST_AFTER = ("2101-01-01T00:00:00Z", "2101-01-01T01:00:00Z")
RANGES = {
    "year 1": NEAR_YEAR_1,
    "year 9999": NEAR_YEAR_9999,
    "1999": JUST_BEFORE,
    "2101": JUST_AFTER,
}


@dataclass
class World:
    """A running app with one studio and the path of its SQLite file."""

    app: RunningApp
    studio_id: str
    database: Path


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """A running Torget on SQLite with a studio "Stora scenen"."""
    async with running_app(settings_for(sqlite_url(tmp_path))) as app:
        answer = await app.client.post(
            "/api/v1/studios", json={"name": "Stora scenen"}, headers=app.admin
        )
        yield World(app, (await answer.json())["id"], tmp_path / "torget.db")


async def _create(world: World, starts_at: str, ends_at: str) -> Any:
    return await world.app.client.post(
        "/api/v1/sessions",
        json={"studio_id": world.studio_id, "title": "T", "starts_at": starts_at,
              "ends_at": ends_at},
        headers=world.app.admin,
    )  # fmt: skip


async def _refused(answer: Any, field: str) -> None:
    assert answer.status == 422, await answer.text()
    error = (await answer.json())["error"]
    assert error == {"code": "invalid_input", "field": field,
                     "message": f"{field}: {OUT_OF_RANGE}"}  # fmt: skip


@pytest.mark.parametrize("times", RANGES.values(), ids=RANGES.keys())
async def test_create_refuses_times_out_of_range(world: World, times: tuple[str, str]) -> None:
    """Creating a session at an out-of-range time answers 422 naming starts_at."""
    await _refused(await _create(world, *times), "starts_at")


@pytest.mark.parametrize("times", RANGES.values(), ids=RANGES.keys())
async def test_patch_refuses_times_out_of_range(world: World, times: tuple[str, str]) -> None:
    """Moving a session to an out-of-range time answers 422 naming the field changed."""
    created = await _create(world, "2026-05-20T09:00:00Z", "2026-05-20T10:00:00Z")
    session = (await created.json())["id"]
    for field, value in (("starts_at", times[0]), ("ends_at", times[1])):
        answer = await world.app.client.patch(
            f"/api/v1/sessions/{session}", json={field: value}, headers=world.app.admin
        )
        await _refused(answer, field)


@pytest.mark.parametrize("times", RANGES.values(), ids=RANGES.keys())
async def test_import_refuses_times_out_of_range(world: World, times: tuple[str, str]) -> None:
    """Importing a YAML or CSV session at an out-of-range time answers 422 with its place."""
    yaml = (
        f"sessions:\n  - {{studio: A, title: T, starts_at: '{times[0]}', ends_at: '{times[1]}'}}\n"
    )
    csv = f"studio,title,starts_at,ends_at\nA,T,{times[0]},{times[1]}\n"
    for body, media, place in (
        (yaml, "application/yaml", "sessions[0]"),
        (csv, "text/csv", "row 2"),
    ):
        answer = await world.app.client.post(
            "/api/v1/program/import",
            data=body.encode(),
            headers={**world.app.admin, "Content-Type": media},
        )
        await _refused(answer, f"{place}.starts_at")


async def test_last_accepted_year_and_extend_past_it(world: World) -> None:
    """A session late in 2100 is accepted; extending it into 2101 answers 422 naming ends_at."""
    created = await _create(world, "2100-12-31T22:00:00Z", "2100-12-31T23:00:00Z")
    assert created.status == 201
    session = (await created.json())["id"]
    answer = await world.app.client.post(
        f"/api/v1/sessions/{session}/extend", json={"minutes": 240}, headers=world.app.admin
    )
    await _refused(answer, "ends_at")
    first = await _create(world, "2000-01-01T00:00:00Z", "2000-01-01T01:00:00Z")
    assert first.status == 201


async def test_a_stored_out_of_range_session_breaks_neither_export_nor_extend(
    world: World,
) -> None:
    """A row written before the range was checked: exports still work, extend answers 422."""
    created = await _create(world, "2026-05-20T09:00:00Z", "2026-05-20T10:00:00Z")
    session = (await created.json())["id"]
    with sqlite3.connect(world.database) as db:
        db.execute(
            "UPDATE sessions SET starts_at = ?, ends_at = ? WHERE id = ?",
            ("9999-12-31 22:00:00.000000", "9999-12-31 23:00:00.000000", session),
        )
    client, admin = world.app.client, world.app.admin
    for fmt in ("yaml", "csv"):
        answer = await client.get(f"/api/v1/program/export?format={fmt}", headers=admin)
        assert answer.status == 200, await answer.text()
        assert "9999-12-31T23:00:00" in await answer.text()
    answer = await client.post(
        f"/api/v1/sessions/{session}/extend", json={"minutes": 10}, headers=admin
    )
    await _refused(answer, "ends_at")
    assert (await client.get("/api/v1/program")).status == 200
    assert (await client.get("/api/v1/program.ics")).status == 200
