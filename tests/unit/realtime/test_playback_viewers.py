"""The presence pass of playback viewers (realtime/playback_viewers.py) on a real engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from realtime.engine import MemoryEngine
from realtime.playback_viewers import PlaybackViewers
from studio.signing import Signer
from studio.store import Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh SQLite store."""
    opened = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    yield opened
    await opened.close()


async def test_presence_pass_puts_playback_viewers_in_the_engine(store: Store) -> None:
    """One pass touches the present identities into the engine's count (a websocket viewer with
    the same id counts once), adds them to the uniques and records the minute for the report."""
    engine = MemoryEngine(store)
    now = [100.0]
    viewers = PlaybackViewers(
        engine, store, Signer(b"k" * 32), node_id="node_t", clock=lambda: now[0]
    )
    first = viewers.seen("ses_1", target_duration=1, address="203.0.113.7", user_agent="UA")
    again = viewers.seen("ses_1", target_duration=1, address="203.0.113.7", user_agent="UA")
    other = viewers.seen("ses_1", target_duration=1, address="203.0.113.7", user_agent="UA",
                         query_viewer="vwr_websocket")  # fmt: skip
    assert first == again
    assert first is not None
    assert first.startswith("hls_")
    assert "203.0.113.7" not in first
    await engine.touch_viewers("ses_1", ["vwr_websocket"], 15)  # the hub's websocket viewer
    await viewers.update(record=True)
    assert await engine.count_viewers("ses_1") == 2
    assert await engine.count_uniques("ses_1", []) == 2
    assert other == "vwr_websocket"
    timeline = await store.viewer_timeline("ses_1")
    assert [(v, u) for _, v, u in timeline] == [(2, 2)]
    now[0] += 10  # everyone's requests stopped long ago
    await viewers.update(record=False)
    assert viewers.rooms == {}


async def test_webrtc_sets_reported_whole_join_and_leave_the_difference(store: Store) -> None:
    """A media manager reporting its whole set of WebRTC viewers on each change moves the
    present identities: new ones join, missing ones leave, an empty set leaves everyone."""
    viewers = PlaybackViewers(MemoryEngine(store), store, Signer(b"k" * 32), node_id="node_t")
    viewers.webrtc_now("ses_1", ["whp_a", "whp_b"])
    assert viewers.tracker.present("ses_1", now=0) == {"whp_a", "whp_b"}
    viewers.webrtc_now("ses_1", ["whp_b", "whp_c"])
    assert viewers.tracker.present("ses_1", now=0) == {"whp_b", "whp_c"}
    viewers.webrtc_now("ses_1", [])
    assert viewers.tracker.watching(now=0) == {}
