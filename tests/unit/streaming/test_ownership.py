"""The media ownership rule, the headers that cross a forwarded request, and echo detection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from streaming.ownership import (
    NODE_HEADER,
    PROXIED_HEADER,
    STALE_AFTER_S,
    Echoes,
    is_stale,
    proxy_request_headers,
    proxy_response_headers,
    proxy_target,
)
from studio.store import Store
from tests.e2e.studio.test_store import a_session
from tests.support.harness import T0, settings_for, sqlite_url

ME = "http://torget-1:8080"
OTHER = "http://torget-2:8080"
DB = "sqlite+aiosqlite:///unused.db"


@dataclass(frozen=True)
class Row:
    node_url: str
    updated_at: datetime


def test_no_owner_means_answer_here() -> None:
    """A session no node has claimed is answered locally."""
    assert proxy_target(None, ME, T0) is None


def test_own_row_means_answer_here_even_when_stale() -> None:
    """This node's own row (whatever its age, and with a trailing slash) is answered locally."""
    assert proxy_target(Row(ME + "/", T0), ME, T0) is None
    assert proxy_target(Row(ME, T0 - timedelta(hours=1)), ME, T0) is None


def test_a_fresh_other_owner_gets_the_request() -> None:
    """Another node that confirmed its row within the window gets the request."""
    row = Row(OTHER + "/", T0 - timedelta(seconds=STALE_AFTER_S))
    assert proxy_target(row, ME, T0) == OTHER
    assert not is_stale(row, T0)


def test_a_stale_other_owner_is_ignored() -> None:
    """A row not confirmed for longer than the window is stale: the request is answered here."""
    row = Row(OTHER, T0 - timedelta(seconds=STALE_AFTER_S + 0.001))
    assert is_stale(row, T0)
    assert proxy_target(row, ME, T0) is None
    assert proxy_target(row, ME, T0, stale_after=60) == OTHER


def test_request_headers_keep_only_what_the_owner_needs() -> None:
    """Hop-by-hop and unknown headers stay behind; credentials, ranges and the agent cross;
    the viewer's address is appended to X-Forwarded-For and the request is marked proxied."""
    incoming = [
        ("Host", "events.example"),
        ("Connection", "keep-alive"),
        ("Transfer-Encoding", "chunked"),
        ("Accept-Encoding", "gzip"),
        ("authorization", "Bearer tgt_x"),
        ("Cookie", "torget_session=abc"),
        ("Range", "bytes=0-99"),
        ("User-Agent", "hls.js"),
        ("Content-Type", "application/sdp"),
        ("X-Forwarded-For", "10.0.0.1"),
        ("X-Forwarded-For", "10.0.0.2"),
        ("X-Torget-Proxied", "0"),
        ("X-Secret", "nope"),
    ]
    assert proxy_request_headers(incoming, "203.0.113.7") == {
        "Authorization": "Bearer tgt_x",
        "Cookie": "torget_session=abc",
        "Range": "bytes=0-99",
        "User-Agent": "hls.js",
        "Content-Type": "application/sdp",
        "X-Forwarded-For": "10.0.0.1, 10.0.0.2, 203.0.113.7",
        PROXIED_HEADER: "1",
    }


def test_response_headers_pass_what_players_and_caches_need() -> None:
    """Type, caching, ranges and Location come back; the rest stays; the owner is named."""
    upstream = {
        "Content-Type": "video/mp4",
        "Cache-Control": "public, max-age=31536000, immutable",
        "Content-Range": "bytes 0-99/1000",
        "Location": "/whep/s1/r1",
        "Set-Cookie": "x=y",
        "Server": "Python/3.11 aiohttp",
        "Content-Length": "100",
    }
    assert proxy_response_headers(upstream, OTHER) == {
        "Content-Type": "video/mp4",
        "Cache-Control": "public, max-age=31536000, immutable",
        "Content-Range": "bytes 0-99/1000",
        "Location": "/whep/s1/r1",
        NODE_HEADER: OTHER,
    }


def test_echoes_answer_once_per_announcement() -> None:
    """A change this node announced is recognised once per announcement; others never."""
    echoes = Echoes()
    echoes.sent("s1", "ended")
    echoes.sent("s1", "ended")
    assert echoes.is_echo("s1", "ended")
    assert echoes.is_echo("s1", "ended")
    assert not echoes.is_echo("s1", "ended")
    assert not echoes.is_echo("s1", "live")


def test_echoes_are_bounded() -> None:
    """Past the limit the oldest announcements are forgotten."""
    echoes = Echoes(limit=2)
    for sid in ("a", "b", "c"):
        echoes.sent(sid, "live")
    assert not echoes.is_echo("a", "live")
    assert echoes.is_echo("c", "live")


async def test_store_claims_refreshes_and_reads_owners(tmp_path: Path) -> None:
    """A claim replaces the previous owner under the next epoch (every claim is kept); a
    refresh touches only the refreshing node's rows and names them with their epochs."""
    store = await Store.open(sqlite_url(tmp_path))
    try:
        studio = await store.create_studio("Hall", T0)
        s1 = (await store.create_session(a_session(studio.id), "hash1")).id
        s2 = (await store.create_session(a_session(studio.id, start_minutes=60), "hash2")).id
        assert await store.media_owner(s1) is None
        assert await store.claim_media(s1, ME, "node_a", T0) == 1
        assert await store.claim_media(s2, ME, "node_a", T0) == 1
        assert await store.claim_media(s2, OTHER, "node_b", T0) == 2
        owner = await store.media_owner(s2)
        assert owner is not None
        assert (owner.node_url, owner.node_id, owner.epoch) == (OTHER, "node_b", 2)
        claims = await store.media_claims(s2)
        assert [(c.epoch, c.node_url) for c in claims] == [(1, ME), (2, OTHER)]
        assert await store.refresh_media(ME, T0 + timedelta(seconds=5)) == {s1: 1}
        first, second = await store.media_owner(s1), await store.media_owner(s2)
        assert first is not None
        assert first.updated_at == T0 + timedelta(seconds=5)
        assert second is not None
        assert second.updated_at == T0
    finally:
        await store.close()


def test_node_url_comes_from_the_setting_or_host_and_port() -> None:
    """``server.node_url`` wins (without its trailing slash); else host and port, with a
    wildcard host replaced by loopback and an IPv6 host bracketed."""
    assert settings_for(DB, TORGET_SERVER_NODE_URL=OTHER + "/").node_url == OTHER
    wildcard = settings_for(DB, TORGET_SERVER_HOST="0.0.0.0", TORGET_SERVER_PORT="9000")
    assert wildcard.node_url == "http://127.0.0.1:9000"
    assert settings_for(DB, TORGET_SERVER_HOST="::1").node_url == "http://[::1]:8080"
    assert settings_for(DB, TORGET_SERVER_HOST="10.0.0.5").node_url == ("http://10.0.0.5:8080")
