"""The store: one class made of a part per aggregate, all on one engine (``database``).

Callers hold one ``Store`` and call every part's methods on it; each part keeps its tables
and rules in its own module of this package (docs/architecture.md, "How data flows").
"""

from __future__ import annotations

from studio.store.access import AccessStore
from studio.store.captions import CaptionStore
from studio.store.clips import ClipStore
from studio.store.join_codes import JoinCodeStore
from studio.store.media_owners import MediaOwnerStore
from studio.store.meta import MetaStore
from studio.store.programme import ProgrammeStore
from studio.store.recordings import RecordingStore
from studio.store.restreams import RestreamStore
from studio.store.rooms import RoomStore


class Store(
    MetaStore,
    ProgrammeStore,
    AccessStore,
    RoomStore,
    RestreamStore,
    RecordingStore,
    MediaOwnerStore,
    CaptionStore,
    JoinCodeStore,
    ClipStore,
):
    """Studios, sessions, tokens, sign-ins, room logs, restreams, recordings, media owners,
    captions, join codes and clips, on SQLite or PostgreSQL."""
