"""The [media] settings become the plane's configuration; bad ladders fail at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import load_settings
from streaming import names
from streaming.errors import InvalidArgument
from streaming.ladder import SourceInfo, plan_ladder
from streaming.plane import find_ffmpeg, next_run, plane_config, rung_for
from streaming.vocab import VideoCodec
from tests.support.harness import running_app, settings_for, sqlite_url


def test_defaults_make_the_documented_ladder() -> None:
    """The default ladder is 720p, 480p and 360p below the source, and variables override."""
    settings = load_settings(
        None, {"TORGET_MEDIA_RTMP_PORT": "19350", "TORGET_MEDIA_POLL_MS": "80"}
    )
    config = plane_config(settings.media)
    assert (config.rtmp_host, config.rtmp_port) == ("127.0.0.1", 19350)
    assert config.pipeline.poll_seconds == pytest.approx(0.08)
    assert [r.name for r in config.pipeline.ladder.rungs] == ["720p", "480p", "360p"]
    assert config.data_dir == Path("data/media")
    assert config.pipeline.slate
    plan = plan_ladder(SourceInfo(1920, 1080, 30.0, VideoCodec.H264), config.pipeline.ladder)
    assert [r.name for r in plan.renditions] == ["source", "720p", "480p", "360p", "audio"]


def test_custom_heights_and_bad_ones() -> None:
    """Other heights get an area-scaled bit rate; an odd height is refused at start-up."""
    assert rung_for(720).video_bitrate == 2_800_000
    assert rung_for(1080).video_bitrate == 6_300_000
    assert rung_for(1080).name == "1080p"
    settings = load_settings(None, {})
    settings.media.ladder_heights = [1080, 1080, 240]
    assert [r.height for r in plane_config(settings.media).pipeline.ladder.rungs] == [1080, 240]
    settings.media.ladder_heights = [721]
    with pytest.raises(InvalidArgument):
        plane_config(settings.media)


def test_ffmpeg_and_run_numbers(tmp_path: Path) -> None:
    """An explicit ffmpeg wins; runs continue after the highest one found on disk."""
    assert find_ffmpeg("/opt/ffmpeg/bin/ffmpeg") == "/opt/ffmpeg/bin/ffmpeg"
    assert find_ffmpeg("")
    assert next_run(tmp_path / "missing") == 1
    for name in (names.init_name(3, 0), names.segment_name(12, 1, 4), "r0002.mpd", "slate.txt"):
        (tmp_path / name).write_bytes(b"")
    assert next_run(tmp_path) == 13


async def test_hls_asks_for_the_access_code_like_the_programme(tmp_path: Path) -> None:
    """With an access code set, HLS answers 401 without a viewer pass, 404 with one."""
    settings = settings_for(
        sqlite_url(tmp_path), TORGET_EVENT_ACCESS_CODE="fair2026", TORGET_MEDIA_ENABLED="false"
    )
    async with running_app(settings) as app:
        for path in ("/hls/ses_x/index.m3u8", "/hls/ses_x/source.m3u8"):
            answer = await app.client.get(path)
            assert answer.status == 401
            assert (await answer.json())["error"]["code"] == "unauthenticated"
        answer = await app.client.post(
            "/api/v1/auth/viewer", json={"display_name": "Ann", "access_code": "fair2026"}
        )
        assert answer.status == 200, await answer.text()
        answer = await app.client.get("/hls/ses_x/index.m3u8")
        assert answer.status == 404
        doc = await (await app.client.get("/api/v1/openapi.json")).json()
        operation = doc["paths"]["/hls/{session_id}/{name}"]["get"]
        assert {p["name"] for p in operation["parameters"]} == {
            "session_id",
            "name",
            "_HLS_msn",
            "_HLS_part",
            "v",
        }
        assert set(operation["responses"]) == {"200", "400", "401", "404", "429", "503"}
