"""Restream destination URLs: accepted, refused, masked, scrubbed."""

from __future__ import annotations

import pytest

from streaming.errors import InvalidArgument
from streaming.restream.urls import URL_PROBLEM, check_push_url, mask_url, scrub, url_secrets
from tests.support.restream import FACEBOOK, YOUTUBE


@pytest.mark.parametrize("url", [YOUTUBE, FACEBOOK, "rtmp://127.0.0.1:1935/live/x"])
def test_push_urls_of_the_usual_services_are_accepted(url: str) -> None:
    """YouTube, Facebook (rtmps with a port and a query) and a local server are destinations."""
    assert check_push_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://a.rtmp.youtube.com/live2/key",
        "rtmp:///live2/key",
        "rtmp://a.rtmp.youtube.com",
        "rtmp://a.rtmp.youtube.com/",
        "rtmp://host/live/key with space",
        "rtmp://host/live/kéy",
        "rtmp://host:99999/live/key",
        "rtmp://host/live/key#frag",
        "rtmp://host/live/key\n",
        "file:///etc/passwd",
        "-f flv rtmp://host/live/key",
    ],
)
def test_other_urls_are_refused_with_a_plain_explanation(url: str) -> None:
    """Anything but rtmp(s) with a host and a path is refused, and the message says what fits."""
    with pytest.raises(InvalidArgument) as caught:
        check_push_url(url)
    assert caught.value.field == "url"
    assert caught.value.problem == URL_PROBLEM
    assert caught.value.problem == (
        "must be an rtmp:// or rtmps:// URL with a host and a path, "
        "like rtmp://a.rtmp.youtube.com/live2/<stream key>"
    )


def test_overlong_urls_are_refused() -> None:
    """A URL longer than 1024 characters is refused before anything parses it."""
    with pytest.raises(InvalidArgument, match="must be at most 1024 characters"):
        check_push_url("rtmp://host/live/" + "k" * 1100)


def test_masking_keeps_the_last_four_characters_of_a_long_key_only() -> None:
    """The API shows where a push goes but not its key; short keys are masked whole."""
    assert mask_url(YOUTUBE) == "rtmp://a.rtmp.youtube.com/live2/••••mnop"
    assert mask_url(FACEBOOK) == "rtmps://live-api-s.facebook.com:443/rtmp/••••EfGh?••••"
    assert mask_url("rtmp://host/live/short") == "rtmp://host/live/••••"
    assert mask_url("rtmp://user:secretpass@host/app/streamkey-123456") == (
        "rtmp://host/app/••••3456"
    )
    for url in (YOUTUBE, FACEBOOK):
        for secret in url_secrets(url):
            assert secret not in mask_url(url)


def test_scrubbing_removes_the_key_from_ffmpeg_output() -> None:
    """ffmpeg's error lines name the URL: what is left names the host, never the key."""
    line = f"{YOUTUBE}: Connection refused"
    assert scrub(line, YOUTUBE) == "rtmp://a.rtmp.youtube.com/live2/***: Connection refused"
    assert "abcd-efgh-ijkl-mnop" not in scrub("Unexpected stream abcd-efgh-ijkl-mnop", YOUTUBE)
    with_password = "rtmp://bob:hunter2hunter2@host/app/key-0123456789"
    scrubbed = scrub(f"auth failed for {with_password} (hunter2hunter2)", with_password)
    assert "hunter2hunter2" not in scrubbed
    assert "key-0123456789" not in scrubbed
    assert "FB-1234567890-0-AbCdEfGh" not in scrub(f"[rtmp] {FACEBOOK} failed", FACEBOOK)
    assert "s_bl=1" not in scrub(f"[rtmp] {FACEBOOK} failed", FACEBOOK)
