"""Restream destinations over the API, and end to end: a live session pushed to a local RTMP
receiver (ffmpeg listening), a refusing destination retried and given up, keys never shown."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from streaming.restream.pusher import RestreamConfig, Target
from streaming.restream.restreamer import Restreamer
from streaming.restream.retry import RetryPolicy
from streaming.vocab import RestreamState
from studio.states import SessionState
from tests.support.flv_tags import AUDIO_CONFIG, VIDEO_CONFIG
from tests.support.harness import RunningApp, running_app, settings_for, sqlite_url
from tests.support.media_stage import Stage, alive, new_session, publisher, stage, state, stop
from tests.support.media_tools import FFMPEG, needs_ffmpeg, probe
from tests.support.restream import SOURCE, YOUTUBE, restreamed_session
from tests.support.servers import free_port
from tests.support.waiting import until
from web.keys import MEDIA, PROGRAMME, RESTREAMER

KEY = "rs-secret-key-0123456789abcdef"


def restreams_path(session_id: str) -> str:
    """The API path of a session's destinations."""
    return f"/api/v1/sessions/{session_id}/restreams"


async def session_in(app: RunningApp, studio: str, hour: int = 9) -> str:
    """Schedule a session in ``studio``; return its id."""
    body = {
        "studio_id": studio,
        "title": "Restreamed",
        "starts_at": f"2026-05-20T{hour:02d}:00:00+02:00",
        "ends_at": f"2026-05-20T{hour:02d}:45:00+02:00",
    }
    answer = await app.client.post("/api/v1/sessions", json=body, headers=app.admin)
    assert answer.status == 201, await answer.text()
    return str((await answer.json())["id"])


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[RunningApp, str]]:
    """A running app (no RTMP listener) with one studio and one session."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_MEDIA_ENABLED="false")
    async with running_app(settings) as app:
        answer = await app.client.post("/api/v1/studios", json={"name": "Hall"}, headers=app.admin)
        studio = (await answer.json())["id"]
        yield app, await session_in(app, studio)


async def error_of(answer: Any) -> tuple[int, str]:
    """(status, error message) of an error answer."""
    return answer.status, (await answer.json())["error"]["message"]


# --- the API --------------------------------------------------------------------------------------


async def test_destinations_are_added_listed_changed_and_removed_with_keys_masked(
    api: tuple[RunningApp, str], caplog: pytest.LogCaptureFixture
) -> None:
    """An operator adds a destination; the answer and the list mask the key; it can be
    renamed, switched off and removed; its status is idle while nothing is pushed."""
    caplog.set_level(logging.INFO)  # as `torget serve` logs; our own modules at DEBUG too
    for name in ("streaming", "studio", "web"):
        caplog.set_level(logging.DEBUG, logger=name)
    app, session_id = api
    url = f"rtmp://a.rtmp.youtube.com/live2/{KEY}"
    answer = await app.client.post(
        restreams_path(session_id), json={"name": "YouTube", "url": url}, headers=app.admin
    )
    assert answer.status == 201
    created = await answer.json()
    assert created["url"] == "rtmp://a.rtmp.youtube.com/live2/••••cdef"
    assert created["enabled"] is True
    assert created["status"] == {
        "state": "idle", "since": None, "attempts": 0, "last_error": None, "bytes_sent": 0,
        "dropped_frames": 0,
    }  # fmt: skip
    listed = await app.client.get(restreams_path(session_id), headers=app.admin)
    text = await listed.text()
    assert KEY not in text
    assert [d["id"] for d in await listed.json()] == [created["id"]]

    path = f"{restreams_path(session_id)}/{created['id']}"
    answer = await app.client.patch(path, json={"name": "YT", "enabled": False}, headers=app.admin)
    assert answer.status == 200
    changed = await answer.json()
    assert (changed["name"], changed["enabled"]) == ("YT", False)
    assert KEY not in await answer.text()

    assert (await app.client.delete(path, headers=app.admin)).status == 204
    assert await (await app.client.get(restreams_path(session_id), headers=app.admin)).json() == []
    assert await error_of(await app.client.delete(path, headers=app.admin)) == (
        404,
        f"restream destination {created['id']!r} does not exist",
    )
    assert KEY not in caplog.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"name": "X", "url": "http://example.com/live/key"},
            "url: must be an rtmp:// or rtmps:// URL with a host and a path, "
            "like rtmp://a.rtmp.youtube.com/live2/<stream key>",
        ),
        (
            {"name": "X", "url": "rtmp://host"},
            "url: must be an rtmp:// or rtmps:// URL with a host and a path, "
            "like rtmp://a.rtmp.youtube.com/live2/<stream key>",
        ),
        ({"name": "X", "url": "rtmp://h/" + "k" * 1100}, "url: must be at most 1024 characters"),
        ({"name": "X", "url": ""}, "url: must not be empty"),
        (
            {"name": " ", "url": "rtmp://h/live/k"},
            "name: must not be blank or hold control characters",
        ),
        ({"name": "N" * 101, "url": "rtmp://h/live/k"}, "name: must be at most 100 characters"),
        ({"url": "rtmp://h/live/k"}, "name: is required"),
        ({"name": "X", "url": "rtmp://h/live/k", "key": "x"}, "key: is not a known field"),
    ],
)
async def test_bad_destinations_are_refused_with_a_reason(
    api: tuple[RunningApp, str], body: dict[str, Any], message: str
) -> None:
    """Each bad input is answered 422 with a sentence that names the field."""
    app, session_id = api
    answer = await app.client.post(restreams_path(session_id), json=body, headers=app.admin)
    assert await error_of(answer) == (422, message)


async def test_a_session_takes_at_most_five_destinations_and_none_once_over(
    api: tuple[RunningApp, str],
) -> None:
    """The sixth destination is refused; an ended session takes none; an unknown one is 404."""
    app, session_id = api
    for n in range(5):
        body = {"name": f"Channel {n}", "url": f"rtmp://127.0.0.1:9/live/k{n}"}
        answer = await app.client.post(restreams_path(session_id), json=body, headers=app.admin)
        assert answer.status == 201
    body = {"name": "One more", "url": "rtmp://127.0.0.1:9/live/k5"}
    answer = await app.client.post(restreams_path(session_id), json=body, headers=app.admin)
    assert await error_of(answer) == (409, "a session may have at most 5 restream destinations")
    answer = await app.client.post(f"/api/v1/sessions/{session_id}/end", headers=app.admin)
    assert answer.status == 200
    answer = await app.client.post(restreams_path(session_id), json=body, headers=app.admin)
    assert await error_of(answer) == (409, "the session is ended; it cannot be restreamed any more")
    answer = await app.client.get(restreams_path("ses_nothing"), headers=app.admin)
    assert await error_of(answer) == (404, "session 'ses_nothing' does not exist")


async def test_deleting_a_session_removes_its_destinations(
    api: tuple[RunningApp, str],
) -> None:
    """Destinations belong to their session: they go when it is deleted."""
    app, session_id = api
    body = {"name": "Gone", "url": "rtmp://127.0.0.1:9/live/gone"}
    answer = await app.client.post(restreams_path(session_id), json=body, headers=app.admin)
    assert answer.status == 201
    restreamer = app.web_app[RESTREAMER]  # the node's restreamer exists even without media
    assert restreamer.status((await answer.json())["id"]) is None
    answer = await app.client.delete(f"/api/v1/sessions/{session_id}", headers=app.admin)
    assert answer.status == 204
    assert await app.web_app[PROGRAMME].store.list_destinations(session_id) == []


# --- the store, on both back ends -----------------------------------------------------------------


# --- end to end ----------------------------------------------------------------------------------


def listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (read from /proc, no connection made:
    ffmpeg's listener takes exactly one connection)."""
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as fh:
        return any(
            line.split()[1] == wanted and line.split()[3] == "0A" for line in fh.readlines()[1:]
        )


@contextlib.asynccontextmanager
async def receiver(out: Path, port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    """An RTMP server (ffmpeg listening) that writes what it receives to ``out``."""
    assert FFMPEG is not None
    process = await asyncio.create_subprocess_exec(
        FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-listen", "1",
        "-i", f"rtmp://127.0.0.1:{port}/live/{KEY}", "-c", "copy", "-f", "flv", "-y", str(out),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:

        async def up() -> bool:
            return listening(port)

        await until(up, timeout=10, what="the receiver to listen")
        yield process
    finally:
        await stop(process)


async def destinations(st: Stage, session_id: str) -> list[dict[str, Any]]:
    """The session's destinations as the API lists them (checked to hold no key)."""
    answer = await st.app.client.get(restreams_path(session_id), headers=st.app.admin)
    assert answer.status == 200
    assert KEY not in await answer.text()
    found: list[dict[str, Any]] = await answer.json()
    return found


async def status_of(st: Stage, session_id: str, destination_id: str) -> dict[str, Any]:
    """One destination's status."""
    found = {d["id"]: d for d in await destinations(st, session_id)}
    status: dict[str, Any] = found[destination_id]["status"]
    return status


async def go_live_and_push(st: Stage, session_id: str, destination_id: str, sent: int) -> None:
    """Put the session live and wait until the push is live and has sent ``sent`` bytes."""
    answer = await st.app.client.post(f"/api/v1/sessions/{session_id}/live", headers=st.app.admin)
    assert answer.status == 200

    async def pushing() -> bool:
        status = await status_of(st, session_id, destination_id)
        return bool(status["state"] == "live" and status["bytes_sent"] > sent)

    await until(pushing, timeout=30, what="the push to go live and carry media")


@pytest.mark.slow
@needs_ffmpeg
async def test_a_live_session_is_pushed_to_an_rtmp_receiver(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing is pushed while the session is only ready; once live the receiver gets the
    source picture and sound (H.264 + AAC) and the status goes live with bytes counted; ending
    the session stops the push; the key appears in no answer and no log line."""
    caplog.set_level(logging.INFO)  # as `torget serve` logs; our own modules at DEBUG too
    for name in ("streaming", "studio", "web"):
        caplog.set_level(logging.DEBUG, logger=name)
    port = free_port()
    out = tmp_path / "received.flv"
    async with stage(tmp_path, ladder=[]) as st:
        session_id, stream_key = await new_session(st, "Pushed", 9)
        body = {"name": "Local", "url": f"rtmp://127.0.0.1:{port}/live/{KEY}"}
        answer = await st.app.client.post(
            restreams_path(session_id), json=body, headers=st.app.admin
        )
        assert answer.status == 201
        destination = (await answer.json())["id"]
        async with receiver(out, port) as received, publisher(st.rtmp(stream_key), size="640x360"):
            plane = st.app.web_app[MEDIA]

            async def ready() -> bool:
                found = plane.pipeline(session_id)
                return found is not None and found.ready.is_set()

            await until(ready, timeout=20, what="the first segments")
            assert await state(st, session_id) == "ready"
            assert (await status_of(st, session_id, destination))["state"] == "idle"
            assert listening(port)  # nobody connected to the receiver yet

            await go_live_and_push(st, session_id, destination, 200_000)
            status = await status_of(st, session_id, destination)
            assert status["attempts"] == 0
            assert status["last_error"] is None

            answer = await st.app.client.post(
                f"/api/v1/sessions/{session_id}/end", headers=st.app.admin
            )
            assert answer.status == 200
            await asyncio.wait_for(received.wait(), 20)  # the push hung up: the file is done

            async def stopped() -> bool:
                return bool((await status_of(st, session_id, destination))["state"] == "stopped")

            await until(stopped, timeout=20, what="the push to stop")
    streams = {s["codec_type"]: s for s in probe(out)["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert (streams["video"]["width"], streams["video"]["height"]) == (640, 360)
    assert streams["audio"]["codec_name"] == "aac"
    assert out.stat().st_size > 100_000
    assert stream_key not in caplog.text
    assert KEY not in caplog.text
    assert "restream" in caplog.text  # the push was logged, by id and redacted URL


@pytest.mark.slow
@needs_ffmpeg
async def test_a_refusing_destination_is_retried_then_given_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A session goes live before its publisher connects: the push starts with the ingest; a
    destination whose port is closed shows retrying with its attempts and a scrubbed error,
    then failed; re-enabling it tries again; the key is never shown."""
    caplog.set_level(logging.INFO)  # as `torget serve` logs; our own modules at DEBUG too
    for name in ("streaming", "studio", "web"):
        caplog.set_level(logging.DEBUG, logger=name)
    closed = free_port()
    async with stage(tmp_path, ladder=[]) as st:
        restreamer = st.app.web_app[RESTREAMER]
        restreamer.config = dataclasses.replace(
            restreamer.config, policy=RetryPolicy(delays=(0.5, 1.0), max_failures=3)
        )
        session_id, stream_key = await new_session(st, "Refused", 9)
        answer = await st.app.client.post(
            f"/api/v1/sessions/{session_id}/live", headers=st.app.admin
        )
        assert answer.status == 200
        body = {"name": "Closed", "url": f"rtmp://127.0.0.1:{closed}/live/{KEY}"}
        answer = await st.app.client.post(
            restreams_path(session_id), json=body, headers=st.app.admin
        )
        assert answer.status == 201
        destination = (await answer.json())["id"]
        assert (await status_of(st, session_id, destination))["state"] == "idle"  # no ingest
        async with publisher(st.rtmp(stream_key), size="320x240"):
            seen: set[str] = set()
            retrying: dict[str, Any] = {}

            async def failed() -> bool:
                status = await status_of(st, session_id, destination)
                seen.add(status["state"])
                if status["state"] == "retrying":
                    retrying.update(status)
                return bool(status["state"] == "failed")

            await until(failed, timeout=60, what="the push to give up")
            assert "retrying" in seen
            assert retrying["attempts"] >= 1
            assert "Connection refused" in retrying["last_error"]
            status = await status_of(st, session_id, destination)
            assert status["attempts"] == 3
            assert "Connection refused" in status["last_error"]
            assert f"rtmp://127.0.0.1:{closed}/live/***" in status["last_error"]

            path = f"{restreams_path(session_id)}/{destination}"
            answer = await st.app.client.patch(path, json={"enabled": True}, headers=st.app.admin)
            assert answer.status == 200

            async def again() -> bool:
                return bool((await status_of(st, session_id, destination))["state"] != "failed")

            await until(again, timeout=20, what="the re-enabled push to try again")
            assert (await st.app.client.delete(path, headers=st.app.admin)).status == 204
            assert await destinations(st, session_id) == []
    assert KEY not in caplog.text
    assert stream_key not in caplog.text
    assert "gave up after 3 failures" in caplog.text


@pytest.mark.slow
@needs_ffmpeg
async def test_a_destination_added_while_live_starts_and_shutdown_ends_its_push(
    tmp_path: Path,
) -> None:
    """A destination added to a session already on air starts pushing at the next keyframe;
    shutting the node down ends the push (the receiver's file is complete, no ffmpeg is left)."""
    port = free_port()
    out = tmp_path / "late.flv"
    pids: set[int] = set()
    async with receiver(out, port) as received:
        async with stage(tmp_path, ladder=[]) as st:
            session_id, stream_key = await new_session(st, "Late", 9)
            async with publisher(st.rtmp(stream_key), size="320x240"):

                async def ready() -> bool:
                    return await state(st, session_id) == "ready"

                await until(ready, timeout=20, what="the ingest")
                answer = await st.app.client.post(
                    f"/api/v1/sessions/{session_id}/live", headers=st.app.admin
                )
                assert answer.status == 200
                body = {"name": "Late", "url": f"rtmp://127.0.0.1:{port}/live/{KEY}"}
                answer = await st.app.client.post(
                    restreams_path(session_id), json=body, headers=st.app.admin
                )
                assert answer.status == 201
                destination = (await answer.json())["id"]

                async def pushing() -> bool:
                    status = await status_of(st, session_id, destination)
                    return bool(status["state"] == "live" and status["bytes_sent"] > 50_000)

                await until(pushing, timeout=30, what="the late push to carry media")
                restreamer = st.app.web_app[RESTREAMER]
                tap = restreamer.tap(session_id)
                assert tap is not None
                pids |= {p.pid for p in tap.pushers.values() if p.pid is not None}
                assert len(pids) == 1
        await asyncio.wait_for(received.wait(), 20)
    assert not any(alive(pid) for pid in pids)
    [video, *_] = (s for s in probe(out)["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 320, 240)


@pytest.mark.slow
@needs_ffmpeg
async def test_a_push_stops_with_the_ingest_and_resumes_when_it_returns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Torget's own RTMP ingest as the destination (another session's key): the push makes that
    session ready; when the live session's publisher leaves the push stops (the other session
    loses its ingest); when the publisher returns the push resumes."""
    caplog.set_level(logging.INFO)
    for name in ("streaming", "studio", "web"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with stage(tmp_path, ladder=[]) as st:
        source_id, source_key = await new_session(st, "Source", 9)
        target_id, target_key = await new_session(st, "Relay", 10)
        answer = await st.app.client.post(
            f"/api/v1/sessions/{source_id}/live", headers=st.app.admin
        )
        assert answer.status == 200
        body = {"name": "Self", "url": st.rtmp(target_key)}
        answer = await st.app.client.post(
            restreams_path(source_id), json=body, headers=st.app.admin
        )
        assert answer.status == 201
        destination = (await answer.json())["id"]
        assert target_key not in await answer.text()

        async def target_is(wanted: str) -> bool:
            return await state(st, target_id) == wanted

        for _ in range(2):  # the publisher comes, goes, and comes back
            async with publisher(st.rtmp(source_key), size="320x240") as pub:

                async def relayed() -> bool:
                    status = await status_of(st, source_id, destination)
                    return bool(status["state"] == "live" and await target_is("ready"))

                await until(relayed, timeout=30, what="the push to make the other session ready")

                async def source_seen() -> Any:
                    answer = await st.app.client.get(
                        f"/api/v1/sessions/{target_id}/health", headers=st.app.admin
                    )
                    return (await answer.json())["source"]  # None until the ingest probed it

                source = await until(source_seen, timeout=15, what="the pushed source's size")
                assert (source["width"], source["height"]) == (320, 240)
                await stop(pub)

            async def stopped() -> bool:
                status = await status_of(st, source_id, destination)
                return bool(status["state"] == "stopped" and await target_is("scheduled"))

            await until(stopped, timeout=30, what="the push to stop with the ingest")
            assert await state(st, source_id) == "live"
    assert target_key not in caplog.text
    assert source_key not in caplog.text


@pytest.mark.slow
@needs_ffmpeg
async def test_a_push_that_never_goes_live_times_out_and_stopping_ends_ffmpeg() -> None:
    """A real ffmpeg that never gets going counts as a failure after the connect timeout (and
    is killed); stopping a push while its ffmpeg runs ends that process and marks it stopped."""
    assert FFMPEG is not None
    live = {"targets": [Target("rst_t", YOUTUBE)]}

    async def load(session_id: str) -> tuple[bool, list[Target]]:
        return True, list(live["targets"])

    config = RestreamConfig(
        ffmpeg=FFMPEG, connect_timeout=0.5, policy=RetryPolicy(delays=(0.05,), max_failures=2)
    )
    restreamer = Restreamer(load, config)
    tap = restreamer(restreamed_session(SessionState.LIVE), SOURCE, [VIDEO_CONFIG, AUDIO_CONFIG])
    await restreamer.sync("ses_x")

    def gave_up() -> bool:
        status = restreamer.status("rst_t")
        return status is not None and status.state is RestreamState.FAILED

    await until(gave_up, timeout=10, what="the push to give up", interval=0.02)
    status = restreamer.status("rst_t")
    assert status is not None
    assert (status.attempts, status.last_error) == (2, "no connection within 0.5 s")

    restreamer.config = RestreamConfig(ffmpeg=FFMPEG, connect_timeout=60)
    await restreamer.sync("ses_x", rearm={"rst_t"})
    pusher = tap.pushers["rst_t"]

    def running() -> bool:
        return pusher.pid is not None

    await until(running, timeout=10, what="the push's ffmpeg to run", interval=0.02)
    pid = pusher.pid
    assert pid is not None
    await tap.close()
    assert pusher.pid is None
    status = restreamer.status("rst_t")
    assert status is not None
    assert status.state is RestreamState.STOPPED
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: the process is gone
    await restreamer.close()
