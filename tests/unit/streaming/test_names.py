"""Every file and URL name of a session, and the strict parser that is their only way back."""

from __future__ import annotations

import pytest

from streaming import names
from streaming.errors import InvalidName
from streaming.vocab import ResourceKind


def test_names_round_trip() -> None:
    """Each builder's name parses back to its parts."""
    assert names.parse_name(names.init_name(3, 1)) == names.ResourceName(
        ResourceKind.INIT, "r0003_1_init.mp4", 3, 1
    )
    assert names.parse_name("r0003_1_000042.m4s") == names.ResourceName(
        ResourceKind.SEGMENT, "r0003_1_000042.m4s", 3, 1, 42
    )
    assert names.parse_name("r0003_1_000042.2.m4s") == names.ResourceName(
        ResourceKind.PART, "r0003_1_000042.2.m4s", 3, 1, 42, 2
    )
    assert names.parse_name("r123456_0_1000000.m4s").number == 1_000_000
    for playlist in ("index.m3u8", "source.m3u8", "720p.m3u8", "1080p.m3u8", "audio.m3u8"):
        assert names.parse_name(playlist).kind is ResourceKind.PLAYLIST


@pytest.mark.parametrize(
    "name",
    [
        "../r0001_0_000001.m4s",
        "r0001_0_000001.m4s/../../etc/passwd",
        "/etc/passwd",
        "..",
        "",
        "r0001_0_000001.m4s\n",
        "r0001_0_000001.m4s.tmp",
        "r00001_0_000001.m4s",
        "r0001_00_000001.m4s",
        "r0001_0_0000001.m4s",
        "r0001_0_000001.02.m4s",
        "r0000_0_000001.m4s",
        "r0001_0_000000.m4s",
        "r0001_0_١٢٣٤٥٦.m4s",
        "R0001_0_000001.m4s",
        "r0001.mpd",
        "index.m3u8?x=1",
        "index.M3U8",
        "0720p.m3u8",
        "r0001_0_init.mp4%00",
        "r0001_0_" + "1" * 60 + ".m4s",
    ],
)
def test_names_outside_the_strict_pattern_are_refused(name: str) -> None:
    """Traversal, other spellings of a number, temp files and manifests never parse."""
    with pytest.raises(InvalidName) as caught:
        names.parse_name(name)
    assert str(caught.value) == f"not a media resource name: {name!r}"


def test_a_new_owner_numbers_its_runs_and_segments_beyond_the_earlier_owners() -> None:
    """The first claim and a node's own next claim go on from its next free run; a claim after
    another node's epoch starts past every run that owner could have used, and each pipeline's
    media sequence starts past every earlier pipeline's."""
    assert names.first_run(1, 1, held_before=False) == 1
    assert names.first_run(2, 4, held_before=True) == 4
    assert names.first_run(2, 1, held_before=False) == 101
    assert names.first_run(3, 250, held_before=False) == 250
    assert names.first_run(20_000, 1, held_before=False) == names.MAX_RUN
    assert names.first_msn(1) == 0
    assert names.first_msn(101) > names.first_msn(100) + 24 * 3600
