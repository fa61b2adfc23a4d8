"""The rules of draft-pantos-hls-rfc8216bis a media playlist must follow, as assertions."""

from __future__ import annotations

import re

_ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def attributes(line: str) -> dict[str, str]:
    """The attribute list of a tag line, quotes kept."""
    return dict(_ATTR.findall(line.split(":", 1)[1]))


def check_media_playlist(text: str) -> None:
    """Assert the rules of draft-pantos-hls-rfc8216bis a media playlist must follow."""
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    assert text.endswith("\n")
    assert sum(1 for x in lines if x.startswith("#EXT-X-VERSION:")) == 1
    assert int(next(x for x in lines if x.startswith("#EXT-X-VERSION:")).split(":")[1]) >= 6
    target = int(next(x for x in lines if x.startswith("#EXT-X-TARGETDURATION:")).split(":")[1])
    first_media = next(
        (i for i, x in enumerate(lines) if x.startswith(("#EXTINF", "#EXT-X-PART:"))), len(lines)
    )
    for tag in (
        "#EXT-X-MEDIA-SEQUENCE:",
        "#EXT-X-DISCONTINUITY-SEQUENCE:",
        "#EXT-X-TARGETDURATION:",
    ):
        assert sum(1 for x in lines if x.startswith(tag)) == 1
        assert next(i for i, x in enumerate(lines) if x.startswith(tag)) < first_media
    ended = "#EXT-X-ENDLIST" in lines
    has_parts = any(x.startswith("#EXT-X-PART:") for x in lines)
    if ended:
        assert not any(x.startswith("#EXT-X-PRELOAD-HINT") for x in lines)
    part_target = 0.0
    if has_parts:
        part_inf = next(x for x in lines if x.startswith("#EXT-X-PART-INF:"))
        part_target = float(attributes(part_inf)["PART-TARGET"])
        control = attributes(next(x for x in lines if x.startswith("#EXT-X-SERVER-CONTROL:")))
        assert control["CAN-BLOCK-RELOAD"] == "YES"
        assert float(control["PART-HOLD-BACK"]) >= 3 * part_target - 1e-9
    # Walk the segments: tags before the first part of a parent, part durations, EXTINF bounds.
    parts: list[tuple[float, bool]] = []
    segment_tags_allowed = True
    total = 0.0
    part_starts: list[float] = []
    for index, line in enumerate(lines):
        if line.startswith(("#EXT-X-DISCONTINUITY", "#EXT-X-MAP", "#EXT-X-PROGRAM-DATE-TIME")):
            if line.startswith("#EXT-X-DISCONTINUITY-SEQUENCE"):
                continue
            assert segment_tags_allowed, f"line {index}: {line} after a part of its segment"
        elif line.startswith("#EXT-X-PART:"):
            attrs = attributes(line)
            duration = float(attrs["DURATION"])
            assert duration <= part_target + 1e-9
            assert attrs["URI"].startswith('"')
            parts.append((duration, attrs.get("INDEPENDENT") == "YES"))
            part_starts.append(total + sum(d for d, _ in parts[:-1]))
            segment_tags_allowed = False
        elif line.startswith("#EXTINF:"):
            duration = float(line[8:].rstrip(","))
            assert round(duration) <= target
            assert not lines[index + 1].startswith("#")
            # Every part but the last of a parent must be at least 85% of PART-TARGET.
            for part_duration, independent in parts[:-1]:
                assert independent or part_duration >= 0.85 * part_target - 1e-9
            if parts:  # a segment whose later fragments were too long is offered whole
                assert sum(d for d, _ in parts) <= duration + 1e-4
            total += duration
            parts = []
            segment_tags_allowed = True
        elif line.startswith("#EXT-X-PRELOAD-HINT:"):
            assert attributes(line)["TYPE"] == "PART"
    end = total + sum(d for d, _ in parts)
    for start in part_starts:
        assert end - start <= 3 * target + 1.0 + 1e-9
