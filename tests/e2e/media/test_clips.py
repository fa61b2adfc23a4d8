"""Clips end to end with real ffmpeg publishing over RTMP: the last seconds while live (a
stream copy and a 9:16 crop), in and out points on the replay (a re-encoded 1:1 crop), each
MP4 checked with ffprobe; and every bad request refused with a clear message, leaving nothing
behind."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.media_stage import (
    Stage,
    error_of,
    fetch,
    new_session,
    publisher,
    replay_published,
    stage,
    start_broadcast,
    state,
)
from tests.support.media_tools import needs_ffmpeg, probe
from tests.support.waiting import until

pytestmark = [pytest.mark.slow, needs_ffmpeg]

KEYFRAME_INTERVAL = 1.0  # the publisher's: 30 frames at 30 fps


async def clips_of(st: Stage, session_id: str, **kwargs: Any) -> Any:
    """POST a clip request as the admin; the answer's status and JSON."""
    answer = await st.app.client.post(
        f"/api/v1/sessions/{session_id}/clips", headers=st.app.admin, **kwargs
    )
    return answer


async def ready_clips(st: Stage, session_id: str, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Wait until the clips ``ids`` are cut; their records by id."""
    found: dict[str, dict[str, Any]] = {}

    async def cut() -> bool:
        answer = await st.app.client.get(
            f"/api/v1/sessions/{session_id}/clips", headers=st.app.admin
        )
        for clip in await answer.json():
            found[clip["id"]] = clip
            assert clip["state"] != "failed", clip
        return all(found.get(i, {}).get("state") == "ready" for i in ids)

    await until(cut, timeout=120, what="the clips to be cut")
    return found


async def probed(st: Stage, clip: dict[str, Any], into: Path) -> dict[str, Any]:
    """Download a clip's MP4 into ``into`` and ffprobe it."""
    body, headers = await fetch(st, urlsplit(clip["mp4"]).path)
    assert headers["Content-Type"] == "video/mp4"
    await asyncio.to_thread(into.write_bytes, body)
    return await asyncio.to_thread(probe, into)


def check_clip(info: dict[str, Any], *, seconds: float, width: int, height: int) -> None:
    """ffprobe's view: the size asked for, audio present, a duration within one keyframe
    interval of the request."""
    video = [s for s in info["streams"] if s["codec_type"] == "video"]
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert len(video) == 1
    assert len(audio) == 1
    assert (video[0]["width"], video[0]["height"]) == (width, height)
    assert abs(float(info["format"]["duration"]) - seconds) <= KEYFRAME_INTERVAL, info["format"]
    assert abs(float(video[0]["duration"]) - seconds) <= KEYFRAME_INTERVAL, video[0]


def clip_files(st: Stage, session_id: str) -> list[str]:
    """Every file in the session's clips folder (MP4s, and any leftover ``.part``)."""
    folder = st.media_dir / session_id / "clips"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


async def test_clips_while_live_and_of_the_replay(tmp_path: Path) -> None:
    """The last 4 s while live as 16:9 (copied) and 9:16 (404x720); after the end, 1.5..4.2 on
    the replay as 1:1 (720x720, re-encoded): each ready, listed and downloadable, with the
    duration, size and audio asked for."""
    async with stage(tmp_path, ladder=[], max_gop=1.0, slate=False) as st:
        session_id, key = await new_session(st, "Clips")
        async with publisher(st.rtmp(key), gop=30):
            await until(lambda: state(st, session_id), timeout=30, what="the ingest to be taken")
            answer = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/live", headers=st.app.admin
            )
            assert answer.status == 200, await answer.text()

            async def asked() -> Any:
                answer = await clips_of(
                    st, session_id, json={"last_seconds": 4, "aspects": ["16:9", "9:16"]}
                )
                if answer.status in (409, 422):  # nothing, or not yet 4 s, recorded
                    return None
                assert answer.status == 202, await answer.text()
                return await answer.json()

            made = await until(asked, timeout=60, interval=0.5, what="4 s to be recorded")
            assert [(c["aspect"], c["state"], c["mp4"]) for c in made] == [
                ("16:9", "cutting", None),
                ("9:16", "cutting", None),
            ]
            live = await ready_clips(st, session_id, {c["id"] for c in made})
        wide, tall = (live[c["id"]] for c in made)
        assert (wide["width"], wide["height"], tall["width"], tall["height"]) == (
            1280,
            720,
            404,
            720,
        )
        assert wide["out_seconds"] - wide["in_seconds"] >= 4.0
        check_clip(
            await probed(st, wide, tmp_path / "wide.mp4"), seconds=4.0, width=1280, height=720
        )
        check_clip(
            await probed(st, tall, tmp_path / "tall.mp4"), seconds=4.0, width=404, height=720
        )

        answer = await st.app.client.post(
            f"/api/v1/sessions/{session_id}/end", headers=st.app.admin
        )
        assert answer.status == 200

        await replay_published(st, session_id)
        answer = await clips_of(
            st, session_id, json={"in_seconds": 1.5, "out_seconds": 4.2, "aspects": ["1:1"]}
        )
        assert answer.status == 202, await answer.text()
        (square,) = await answer.json()
        done = (await ready_clips(st, session_id, {square["id"]}))[square["id"]]
        assert (done["in_seconds"], done["out_seconds"], done["duration_seconds"]) == (
            1.5,
            4.2,
            2.7,
        )
        check_clip(
            await probed(st, done, tmp_path / "square.mp4"), seconds=2.7, width=720, height=720
        )

        # A viewer sees the ready clips too, and gets nothing half-made on disk.
        listed = await (await st.app.client.get(f"/api/v1/sessions/{session_id}/clips")).json()
        assert {c["id"] for c in listed} == {wide["id"], tall["id"], done["id"]}
        assert clip_files(st, session_id) == sorted(f"{c['id']}.mp4" for c in listed)


async def test_bad_clip_requests_are_refused_and_make_nothing(tmp_path: Path) -> None:
    """Unknown session, no sign-in, a moderator of another studio, a session with no recording,
    in/out outside the replay, out before in, a clip too long, no aspect: each a clear JSON
    error, and no clip recorded."""
    async with stage(tmp_path, ladder=[], max_gop=1.0, slate=False) as st:
        session_id, key = await new_session(st, "Refusals")
        path = f"/api/v1/sessions/{session_id}/clips"
        answer = await st.app.client.post(path, json={"last_seconds": 5}, headers=st.app.admin)
        assert await error_of(answer) == (
            409,
            "conflict",
            "a session that is scheduled has no recording to clip",
        )
        answer = await st.app.client.post(
            "/api/v1/sessions/ses_nothing/clips", json={"last_seconds": 5}, headers=st.app.admin
        )
        assert await error_of(answer) == (404, "not_found", "session 'ses_nothing' does not exist")
        answer = await st.app.client.post(path, json={"last_seconds": 5})
        assert await error_of(answer) == (
            401,
            "unauthenticated",
            "sign in as admin, moderator or operator to do this",
        )
        other = await st.app.client.post(
            "/api/v1/studios", json={"name": "Annex"}, headers=st.app.admin
        )
        token = await st.app.client.post(
            "/api/v1/tokens",
            json={"role": "moderator", "name": "Mo", "studio_ids": [(await other.json())["id"]]},
            headers=st.app.admin,
        )
        moderator = st.app.auth((await token.json())["token"])
        answer = await st.app.client.post(path, json={"last_seconds": 5}, headers=moderator)
        assert await error_of(answer) == (
            403,
            "forbidden",
            f"this moderator may not make clips in studio {st.studio!r}",
        )

        async with publisher(st.rtmp(key), gop=30):
            await start_broadcast(st, session_id)

            async def some_recorded() -> bool:
                answer = await st.app.client.post(
                    path, json={"in_seconds": 0, "out_seconds": 2}, headers=st.app.admin
                )
                return answer.status == 422

            await until(some_recorded, timeout=30, what="the live recording to begin")
            answer = await st.app.client.post(
                path, json={"in_seconds": 0, "out_seconds": 2}, headers=st.app.admin
            )
            assert await error_of(answer) == (
                422,
                "invalid_input",
                "in_seconds: while the session is live, clip the last seconds (last_seconds)",
            )
            answer = await st.app.client.post(
                path, json={"last_seconds": 250}, headers=st.app.admin
            )
            status, code, message = await error_of(answer)
            assert (status, code) == (422, "invalid_input")
            assert message.startswith("last_seconds: only ")
            assert message.endswith(" s are recorded so far")
            await asyncio.sleep(0)
        await st.app.client.post(f"/api/v1/sessions/{session_id}/end", headers=st.app.admin)

        await replay_published(st, session_id)
        refusals = [
            ({"in_seconds": 3, "out_seconds": 3}, "out_seconds: must be after in_seconds"),
            (
                {"in_seconds": 0, "out_seconds": 400},
                "out_seconds: a clip may last at most 300 s (this one: 400.00 s)",
            ),
            (
                {"in_seconds": 500, "out_seconds": 501},
                "in_seconds: must be before the end of the replay",
            ),
            (
                {"in_seconds": 1, "out_seconds": 250},
                "out_seconds: must be at most the replay's length",
            ),
            ({"in_seconds": -1, "out_seconds": 2}, "in_seconds: must not be negative"),
            (
                {"in_seconds": 0, "out_seconds": 1, "aspects": []},
                "aspects: choose at least one of 16:9, 9:16, 1:1",
            ),
            ({}, "give either last_seconds, or in_seconds and out_seconds"),
        ]
        for body, message in refusals:
            answer = await st.app.client.post(path, json=body, headers=st.app.admin)
            status, code, said = await error_of(answer)
            assert (status, code) == (422, "invalid_input"), said
            assert said.startswith(message), said
        answer = await st.app.client.post(
            path, json={"last_seconds": 1, "aspects": ["4:3"]}, headers=st.app.admin
        )
        assert (await error_of(answer))[:2] == (422, "invalid_input")
        listed = await (await st.app.client.get(path, headers=st.app.admin)).json()
        assert listed == []
        assert clip_files(st, session_id) == []
        answer = await st.app.client.get(f"{path}/clp_nothing.mp4")
        assert await error_of(answer) == (404, "not_found", "clip 'clp_nothing' does not exist")
