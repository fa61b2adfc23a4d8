"""The durable store: one code path for SQLite (embedded) and PostgreSQL (scaled out)."""

from studio.store.store import (
    Destination,
    ImportResult,
    RecordingRecord,
    Store,
    TokenRecord,
    WebSession,
)

__all__ = [
    "Destination",
    "ImportResult",
    "RecordingRecord",
    "Store",
    "TokenRecord",
    "WebSession",
]
