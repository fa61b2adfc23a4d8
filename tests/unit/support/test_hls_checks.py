"""The playlist rule checker the media tests rely on fails on a broken playlist."""

from __future__ import annotations

import pytest

from tests.support.hls_checks import check_media_playlist


def test_check_media_playlist_catches_a_broken_playlist() -> None:
    """The rule checker itself fails on a part longer than PART-TARGET."""
    broken = "\n".join(
        [
            "#EXTM3U",
            "#EXT-X-VERSION:6",
            "#EXT-X-TARGETDURATION:2",
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6",
            "#EXT-X-PART-INF:PART-TARGET=0.2",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-DISCONTINUITY-SEQUENCE:0",
            '#EXT-X-PART:DURATION=0.3,URI="a"',
            "",
        ]
    )
    with pytest.raises(AssertionError):
        check_media_playlist(broken)
