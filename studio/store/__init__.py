"""The durable store: one code path for SQLite (embedded) and PostgreSQL (scaled out).

A module per aggregate (``meta``, ``programme``, ``access``, ``rooms``, ``restreams``,
``recordings``, ``media_owners``, ``captions``, ``join_codes``, ``clips``) on one engine
(``database``), joined in ``Store`` (docs/architecture.md, "How data flows").
"""

from studio.store.access import WebSession
from studio.store.database import masked_url
from studio.store.media_owners import MediaClaim, MediaOwnerRecord
from studio.store.recordings import RecordingRecord
from studio.store.restreams import Destination
from studio.store.schema import SchemaVersion
from studio.store.store import Store

__all__ = [
    "Destination",
    "MediaClaim",
    "MediaOwnerRecord",
    "RecordingRecord",
    "SchemaVersion",
    "Store",
    "WebSession",
    "masked_url",
]
