"""A session's publisher moves between two real nodes (PostgreSQL, Redis): each claim of its
media takes a new epoch, the node that lost it lets go and builds nothing, and the last owner
builds one recording of the whole broadcast, the other node's run brought over."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streaming import recording
from streaming.ownership import NODE_HEADER
from streaming.vocab import RunKind
from streaming.vod import JOURNAL, parse_journal
from tests.e2e.media.test_cluster import call, node, node_settings
from tests.e2e.media.test_recording import (
    api,
    media_settings,
    recording_ready,
    staged,
    write_runs,
)
from tests.support import servers
from tests.support.harness import running_app
from tests.support.media_stage import Stage, fetch, new_session, playlist, publisher, state
from tests.support.media_tools import needs_ffmpeg, probe
from tests.support.waiting import until
from web.keys import MEDIA, PROGRAMME
from web.media.proxy import UNREACHABLE

pytestmark = [pytest.mark.slow, pytest.mark.postgres, needs_ffmpeg]


async def plays(st: Stage, session_id: str) -> bool:
    """Whether the session's source playlist answers 200 on the stage's node."""
    answer = await st.app.client.get(f"/hls/{session_id}/source.m3u8")
    return answer.status == 200


@pytest.mark.timeout(300)
async def test_a_moved_publisher_makes_one_whole_recording_on_the_last_owner(
    postgres_db_url: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    """A live session is published to node A (epoch 1); A goes away and the publisher
    reconnects to node B (epoch 2), which plays it on; A comes back and forwards to B; the
    session is ended through A: A builds nothing, B brings A's run over and builds the one
    recording (A's run, a discontinuity, B's run) whose MP4 lasts what the API says."""
    a_settings = node_settings(postgres_db_url, redis_server.url, tmp_path / "media-a")
    b_settings = node_settings(postgres_db_url, redis_server.url, tmp_path / "media-b")
    pids: set[int] = set()
    async with node(b_settings) as b:
        answer = await b.client.post("/api/v1/studios", json={"name": "Hall"}, headers=b.admin)
        studio = (await answer.json())["id"]
        on_b = Stage(b, b_settings.media.rtmp_port, tmp_path / "media-b", studio, pids)
        session_id, key = await new_session(on_b, "Harbour plans")
        await call(on_b, "POST", f"/api/v1/sessions/{session_id}/live", 200)
        hls = f"/hls/{session_id}"
        async with node(a_settings) as a:
            a.admin_token = b.admin_token
            on_a = Stage(a, a_settings.media.rtmp_port, tmp_path / "media-a", studio, pids)
            async with publisher(on_a.rtmp(key), size="640x360", gop=15):
                await until(
                    lambda: plays(on_a, session_id), timeout=40, what="node A to play the publish"
                )
                await asyncio.sleep(3.0)
        # A is gone; its row is fresh for a while: B cannot reach the owner it knows of.
        answer = await b.client.get(f"{hls}/index.m3u8")
        assert answer.status == 503
        assert (await answer.json())["error"]["message"] == UNREACHABLE

        async with publisher(on_b.rtmp(key), size="640x360", gop=15) as moved:
            reconnected = time.monotonic()
            await until(
                lambda: plays(on_b, session_id), timeout=40, what="node B to play the publish"
            )
            print(f"HLS played again {time.monotonic() - reconnected:.1f} s after the publisher "
                  "reconnected to the other node")  # fmt: skip
            owner = await b.web_app[PROGRAMME].store.media_owner(session_id)
            assert owner is not None
            assert (owner.node_url, owner.epoch) == (b_settings.node_url, 2)
            await asyncio.sleep(3.0)
            async with node(a_settings) as back:
                back.admin_token = b.admin_token
                on_back = Stage(back, 0, tmp_path / "media-a", studio, pids)
                # The restarted old owner holds nothing live: it forwards to B.
                _, headers = await fetch(on_back, f"{hls}/index.m3u8")
                assert headers[NODE_HEADER] == b_settings.node_url
                # Ended through the node that lost the media: only B builds.
                await call(on_back, "POST", f"/api/v1/sessions/{session_id}/end", 200)
                await asyncio.wait_for(moved.wait(), 30)

                async def replay() -> bool:
                    return await state(on_back, session_id) == "replay"

                await until(replay, timeout=120, what="the replay to be built on node B")
                assert back.web_app[MEDIA].recordings.busy(session_id) is False
                recorded = f"/api/v1/sessions/{session_id}/recording"
                view = await (await call(on_back, "GET", recorded, 200)).json()
                vod = await playlist(on_back, f"{hls}/source.m3u8")
                mp4, mp4_headers = await fetch(
                    on_back, f"/api/v1/sessions/{session_id}/recording.mp4"
                )
                record = await b.web_app[PROGRAMME].store.get_recording(session_id)
    assert (view["state"], view["message"]) == ("ready", "")
    assert record is not None
    assert record.epoch == 2
    a_files = tmp_path / "media-a" / session_id
    b_files = tmp_path / "media-b" / session_id
    assert not (a_files / "recording.json").exists()
    assert not (a_files / "recording.mp4").exists()
    assert (b_files / "recording.json").is_file()
    assert mp4_headers[NODE_HEADER] == b_settings.node_url
    # One recording of the whole session: A's run (brought over), then B's, one discontinuity.
    assert vod.is_endlist
    assert [s.discontinuity for s in vod.segments].count(True) == 1
    journal = parse_journal((b_files / JOURNAL).read_bytes())
    first_run = int(vod.segments[0].uri[1:5])
    assert journal[first_run].origin == a_settings.node_url
    assert journal[first_run].epoch == 1
    total = sum(s.duration for s in vod.segments)
    assert total == pytest.approx(view["duration_seconds"], abs=0.01)
    assert total > 5.0
    (tmp_path / "replay.mp4").write_bytes(mp4)
    served = float(probe(tmp_path / "replay.mp4")["format"]["duration"])
    assert served == pytest.approx(view["duration_seconds"], abs=0.5)


@pytest.mark.timeout(180)
async def test_a_node_whose_claim_was_taken_drops_its_publisher_and_forwards(
    postgres_db_url: str, redis_server: servers.RedisServer, tmp_path: Path
) -> None:
    """Two publishers of one ready session, one per node: the later claim wins; the node that
    lost it drops its publisher within a refresh (the session stays ready: that ingest did not
    go down), ends its playlists and forwards the session's HLS to the new owner."""
    a_settings = node_settings(postgres_db_url, redis_server.url, tmp_path / "media-a")
    b_settings = node_settings(postgres_db_url, redis_server.url, tmp_path / "media-b")
    pids: set[int] = set()
    async with node(b_settings) as b, node(a_settings) as a:
        a.admin_token = b.admin_token
        answer = await b.client.post("/api/v1/studios", json={"name": "Hall"}, headers=b.admin)
        studio = (await answer.json())["id"]
        on_a = Stage(a, a_settings.media.rtmp_port, tmp_path / "media-a", studio, pids)
        on_b = Stage(b, b_settings.media.rtmp_port, tmp_path / "media-b", studio, pids)
        session_id, key = await new_session(on_a, "Two encoders")
        hls = f"/hls/{session_id}/index.m3u8"
        async with publisher(on_a.rtmp(key), size="640x360", gop=15) as first:
            await until(
                lambda: plays(on_a, session_id), timeout=40, what="node A to play the publish"
            )
            async with publisher(on_b.rtmp(key), size="640x360", gop=15):
                await until(
                    lambda: plays(on_b, session_id), timeout=40, what="node B to play the publish"
                )
                await asyncio.wait_for(first.wait(), 20)  # A let it go
                pipeline = a.web_app[MEDIA].pipeline(session_id)
                assert pipeline is not None

                async def ended() -> bool:
                    return pipeline.ended and pipeline.pid is None

                await until(ended, timeout=10, what="node A to end its playlists")
                assert not a.web_app[MEDIA].publishing(session_id)
                _, headers = await fetch(on_a, hls)
                assert headers[NODE_HEADER] == b_settings.node_url
                assert await state(on_a, session_id) == "ready"


async def test_the_replay_says_which_part_could_not_be_brought_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last owner builds the replay from what it can reach and says what is missing: a
    node that held the media earlier and answers without its files (its disk is gone), or one
    that cannot be reached at all (asked again for ``GATHER_WAIT_S``)."""
    monkeypatch.setattr(recording, "GATHER_WAIT_S", 1.0)
    monkeypatch.setattr(recording, "GATHER_RETRY_S", 0.2)
    settings = media_settings(tmp_path)
    emptied = media_settings(tmp_path / "a")
    emptied.store.url = settings.store.url  # one deployment: one store, one signing key
    async with staged(tmp_path, settings) as st, running_app(emptied) as other:
        store = st.app.web_app[PROGRAMME].store
        empty_node = f"http://127.0.0.1:{other.client.port}"
        dead_node = f"http://127.0.0.1:{servers.free_port()}"
        expected = {}
        for hour, earlier, why in ((9, empty_node, "no longer has its files"),
                                   (10, dead_node, "could not be reached")):  # fmt: skip
            session_id, _ = await new_session(st, f"Earlier on {why}", hour)
            await asyncio.to_thread(write_runs, st.media_dir / session_id, [(1, RunKind.INGEST)])
            now = datetime.now(UTC)
            await store.claim_media(session_id, earlier, "node_gone", now)
            await store.claim_media(session_id, settings.node_url, "node_here", now)
            await api(st, "POST", f"{session_id}/end", 200)
            expected[session_id] = (
                f"part of the broadcast was recorded on another node that {earlier} {why}: "
                "the replay holds what the other nodes recorded"
            )
        for session_id, message in expected.items():
            found = await recording_ready(st, session_id)
            assert found["message"] == message
            assert found["duration_seconds"] == pytest.approx(3.0, abs=0.1)

            async def replay(session_id: str = session_id) -> bool:
                return await state(st, session_id) == "replay"

            await until(replay, timeout=30, what=f"the replay of {session_id} to be published")
