"""The durable store: one code path for SQLite (embedded) and PostgreSQL (scaled out)."""

from studio.store.store import (
    Destination,
    ImportResult,
    MediaOwnerRecord,
    RecordingRecord,
    Store,
    TokenRecord,
    WebSession,
)

__all__ = [
    "Destination",
    "ImportResult",
    "MediaOwnerRecord",
    "RecordingRecord",
    "Store",
    "TokenRecord",
    "WebSession",
]
