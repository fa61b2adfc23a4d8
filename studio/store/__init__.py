"""The durable store: one code path for SQLite (embedded) and PostgreSQL (scaled out)."""

from studio.store.store import ImportResult, Store, TokenRecord, WebSession

__all__ = ["ImportResult", "Store", "TokenRecord", "WebSession"]
