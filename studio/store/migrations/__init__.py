"""The store's schema history: Alembic migrations, one file per revision under ``versions/``,
applied in order by ``studio.store.schema`` (docs/architecture.md, "Schema migrations")."""
