"""Alembic's environment for the store's migrations.

At every start ``studio.store.schema`` runs it on the connection it hands over (already in a
transaction, under its lock). A developer runs it through the ``alembic`` command (see
``alembic.ini`` here) on the store of the Torget settings (``TORGET_STORE_URL``).
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from config import load_settings
from studio.store import tables


def run(connection: Connection) -> None:
    """Run the migrations Alembic was asked for on ``connection``."""
    context.configure(
        connection=connection,
        target_metadata=tables.metadata,
        render_as_batch=True,  # SQLite alters a table by copying it
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_the_settings_store() -> None:
    """The ``alembic`` command: connect to the store the Torget settings name."""
    engine = create_async_engine(load_settings(None, os.environ).store.url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(run)
            await conn.commit()
    finally:
        await engine.dispose()


handed_over = context.config.attributes.get("connection")
if isinstance(handed_over, Connection):
    run(handed_over)
else:
    asyncio.run(run_on_the_settings_store())
