"""The programme's and the media plane's errors become JSON answers by one table."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from streaming import errors as media
from studio import errors as studio
from web.errors import answer_for


def _answer(response: web.Response | None) -> tuple[int, dict[str, object]]:
    assert response is not None
    assert response.body is not None
    assert isinstance(response.body, bytes)
    return response.status, json.loads(response.body)["error"]


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (media.WrongStreamKey("the stream key does not open this session"), 401, "unauthenticated"),
        (media.SessionOver("session s is ended"), 409, "conflict"),
        (media.PublisherPresent("session s already has a publisher"), 409, "conflict"),
        (media.BadWhipOffer("the offer's audio is not Opus"), 400, "bad_request"),
        (media.UnknownWhipResource("session s has no WHIP publish r"), 404, "not_found"),
        (media.BadWhepOffer("the SDP offer is not UTF-8 text"), 400, "bad_offer"),
        (media.UnknownWhepViewer("no such WebRTC playback resource"), 404, "not_found"),
        (media.NotLive("this session is cancelled"), 409, "not_live"),
        (media.BadDirective("_HLS_part without _HLS_msn"), 400, "bad_request"),
    ],
)
def test_each_media_refusal_has_its_status_and_code(
    error: media.StreamingError, status: int, code: str
) -> None:
    """The status and code come from the table, the message from the error unchanged."""
    assert _answer(answer_for(error)) == (
        status,
        {"code": code, "message": error.message},
    )


def test_a_full_whep_server_asks_to_retry_and_a_missing_key_to_authenticate() -> None:
    """WhepFull carries Retry-After (the HLS address is in its message); 401 names the scheme."""
    full = media.WhepFull("watch with HLS at /hls/s/index.m3u8", "/hls/s/index.m3u8")
    response = answer_for(full)
    assert _answer(response)[0] == 503
    assert response is not None
    assert response.headers["Retry-After"] == "30"
    unauthenticated = answer_for(media.WrongStreamKey("send the key"))
    assert unauthenticated is not None
    assert unauthenticated.headers["WWW-Authenticate"] == 'Bearer realm="torget"'


def test_a_bad_builder_value_names_its_field_and_other_errors_have_no_row() -> None:
    """InvalidArgument is a 422 with its field; a failure on our side is not in the table."""
    error = media.InvalidArgument("url", "must be at most 1024 characters")
    assert _answer(answer_for(error)) == (
        422,
        {
            "code": "invalid_input",
            "message": "url: must be at most 1024 characters",
            "field": "url",
        },
    )
    assert answer_for(media.InvalidMedia("no media yet")) is None
    assert answer_for(media.RecordingFailed("segment gone")) is None


def test_the_programme_s_errors_keep_their_answers() -> None:
    """A bad input names its field in the message; a missing record is a 404."""
    assert _answer(answer_for(studio.InvalidInput("title", "must not be empty"))) == (
        422,
        {"code": "invalid_input", "message": "title: must not be empty", "field": "title"},
    )
    assert _answer(answer_for(studio.InvalidInput("", "the file is not YAML"))) == (
        422,
        {"code": "invalid_input", "message": "the file is not YAML"},
    )
    missing = studio.NotFound("session", "ses_x")
    assert _answer(answer_for(missing)) == (404, {"code": "not_found", "message": missing.message})
