"""Databases as tests need them outside the store: statements run on a URL directly, and a
store as the code before migrations (main 4453299) left it (``schema_before_migrations/``:
the DDL its ``metadata.create_all`` emitted and a row in every table, per dialect)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

BEFORE_MIGRATIONS = Path(__file__).with_name("schema_before_migrations")

NEWEST = "0002"
"""The newest schema revision (``studio/store/migrations/versions``): a new migration
changes this line."""


async def run_sql(url: str, *statements: str) -> list[Any]:
    """Run ``statements`` in one transaction; the first column of each one's first row (None
    for a statement that returns no rows)."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            results = [await conn.exec_driver_sql(sql) for sql in statements]
            return [result.scalar() if result.returns_rows else None for result in results]
    finally:
        await engine.dispose()


async def make_store_before_migrations(url: str) -> None:
    """Make the empty database at ``url`` a store as the code before migrations left it."""
    dialect = make_url(url).get_backend_name()
    script = (BEFORE_MIGRATIONS / f"{dialect}.sql").read_text(encoding="utf-8")
    lines = [line for line in script.splitlines() if not line.startswith("--")]
    await run_sql(url, *(sql for sql in "\n".join(lines).split(";\n") if sql.strip()))


def run_torget(
    *args: str, store_url: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m torget ARGS`` on the store at ``store_url`` (no other TORGET_* settings
    of ours leak in); wait for it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TORGET_")}
    environment.update(env or {})
    environment["TORGET_STORE_URL"] = store_url
    return subprocess.run(
        [sys.executable, "-m", "torget", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=60,
        check=False,
    )
