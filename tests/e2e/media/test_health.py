"""End to end: ingest health of a real RTMP publish, over the API and in the metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.media_stage import Stage, new_session, publisher, stage, stop
from tests.support.media_tools import needs_ffmpeg
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_ffmpeg]


async def health_of(st: Stage, session_id: str, headers: dict[str, str]) -> dict[str, Any]:
    """The session's ingest health as ``headers`` sees it."""
    answer = await st.app.client.get(f"/api/v1/sessions/{session_id}/health", headers=headers)
    assert answer.status == 200, await answer.text()
    found: dict[str, Any] = await answer.json()
    return found


async def test_operators_and_moderators_see_the_ingest_health(tmp_path: Path) -> None:
    """A 640x360 30 fps publish with a keyframe a second shows as connected over RTMP from the
    loopback, with its codec, size, measured frame rate and bit rate, a recent keyframe and the
    running pipeline; the metrics carry the gauges; after the publisher leaves it shows as gone."""
    async with stage(tmp_path, ladder=[]) as st:
        session_id, key = await new_session(st, "Measured", 9)
        answer = await st.app.client.post(
            "/api/v1/tokens",
            json={"role": "moderator", "name": "mod", "studio_ids": [st.studio]},
            headers=st.app.admin,
        )
        moderator = st.app.auth((await answer.json())["token"])
        before = await health_of(st, session_id, st.app.admin)
        assert before["connected"] is False
        assert (before["source"], before["measured"], before["pipeline"]) == (None, None, None)

        async with publisher(st.rtmp(key), size="640x360", gop=30) as pub:

            async def measured() -> bool:
                found = await health_of(st, session_id, moderator)
                m = found["measured"]
                return bool(found["connected"] and m and m["fps"] and m["frames"] > 90)

            await until(measured, timeout=30, what="three seconds of measured ingest")
            health = await health_of(st, session_id, moderator)
            assert health["state"] == "ready"
            assert health["origin"] == "rtmp"
            assert health["peer"].startswith("127.0.0.1")
            assert health["connected_since"] is not None
            source = health["source"]
            assert (source["video_codec"], source["width"], source["height"]) == (
                "h264",
                640,
                360,
            )
            assert source["has_audio"] is True
            m = health["measured"]
            assert (m["width"], m["height"]) == (640, 360)
            assert 20 <= m["fps"] <= 40
            assert m["bitrate"] > m["video_bitrate"] > 0
            assert m["audio_bitrate"] > 0
            assert m["keyframe_interval"] == pytest.approx(1.0, abs=0.1)
            assert 0 <= m["seconds_since_keyframe"] < 2.5
            assert health["pipeline"]["running"] is True
            assert health["dropped_frames"] == 0

            metrics = await (await st.app.client.get("/metrics")).text()
            assert f'torget_ingest_bitrate_bits_per_second{{session="{session_id}"}}' in metrics
            assert f'torget_ingest_fps{{session="{session_id}"}}' in metrics
            assert 'torget_restream_destinations{state="live"} 0.0' in metrics
            await stop(pub)

        async def gone() -> bool:
            return (await health_of(st, session_id, st.app.admin))["connected"] is False

        await until(gone, timeout=20, what="the ingest to be gone")
        after = await health_of(st, session_id, st.app.admin)
        assert after["measured"] is None
        metrics = await (await st.app.client.get("/metrics")).text()
        assert f'session="{session_id}"' not in metrics
