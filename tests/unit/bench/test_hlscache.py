"""The HLS cache benchmark's pure parts: lags, percentiles, coverage, nginx's log, the lean
HTTP client's head parsing, where a player starts, and the report's rows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.hlscache import stats
from bench.hlscache.http import HttpError, content_length, status_of
from bench.hlscache.players import Playlists, start_point
from bench.hlscache.report import row, saturated
from bench.media.playlist import parse_media

PLAYLIST = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6
#EXT-X-PART-INF:PART-TARGET=0.2
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-MAP:URI="source.init.mp4"
#EXT-X-PART:DURATION=0.2,URI="source.7.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.2,URI="source.7.1.m4s"
#EXTINF:0.4,
source.7.m4s
#EXT-X-PART:DURATION=0.2,URI="source.8.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.2,URI="source.8.1.m4s"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="source.8.2.m4s"
"""


def test_percentiles_are_nearest_rank() -> None:
    """p50 and p99 of 1..100 are 50 and 99; nothing measured gives None."""
    values = [float(v) for v in range(100, 0, -1)]
    assert (stats.percentile(values, 50), stats.percentile(values, 99)) == (50.0, 99.0)
    assert stats.percentile([], 99) is None


def test_behind_the_origin_is_measured_from_when_the_origin_listed_a_part() -> None:
    """Each fetch's completion minus the part's first listing; unknown parts are left out,
    a clock step below zero counts as zero; fetch times are the requests' own durations."""
    fetches = stats.merge([{"a.m4s": [[10.5, 0.01]]}, {"a.m4s": [[10.9, 0.4]], "b.m4s": [[3, 1]]}])
    assert fetches == {"a.m4s": [(10.5, 0.01), (10.9, 0.4)], "b.m4s": [(3.0, 1.0)]}
    lags = stats.behind_origin(fetches, {"a.m4s": 10.0, "b.m4s": 3.5, "c.m4s": 1.0})
    assert lags == pytest.approx([0.5, 0.9, 0.0])
    assert stats.fetch_times(fetches) == [0.01, 0.4, 1.0]


def test_coverage_is_the_share_of_listed_parts_every_player_fetched() -> None:
    """Two players, two parts listed in the window (one outside it): three fetches of the four
    possible are 75 %."""
    listed = {"a": 1.0, "b": 2.0, "late": 9.0}
    fetches = {"a": [(1.1, 0.1), (1.2, 0.1)], "b": [(2.1, 0.1)], "late": [(9.1, 0.1)]}
    assert stats.coverage(fetches, listed, 2, (0.0, 5.0)) == 0.75
    assert stats.coverage(fetches, listed, 0, (0.0, 5.0)) == 0.0


def test_nginx_log_lines_are_counted_by_request_kind_status_and_cache() -> None:
    """The template's log format: blocking reloads, playlists, parts and the multivariant
    are told apart by path and query."""
    log = (
        '127.0.0.1 [05/Dec/2026:10:00:00 +0000] "GET /hls/s/source.m3u8?_HLS_msn=8&_HLS_part=2'
        '&v=x HTTP/1.1" 200 900 0.190 node=127.0.0.1:1 node_status=200 cache=MISS\n'
        '127.0.0.1 [05/Dec/2026:10:00:00 +0000] "GET /hls/s/source.8.2.m4s?v=x HTTP/1.1" 200 '
        "9000 0.002 node=127.0.0.1:1 node_status=200 cache=MISS\n"
        '127.0.0.1 [05/Dec/2026:10:00:00 +0000] "GET /hls/s/index.m3u8 HTTP/1.1" 502 150 2.0 '
        "node=127.0.0.1:1 node_status=- cache=MISS\n"
        "not a log line\n"
    )
    assert stats.nginx_log_kinds(log) == {
        "blocking reload 200 cache=MISS": 1,
        "part or segment 200 cache=MISS": 1,
        "multivariant 502 cache=MISS": 1,
    }
    assert stats.request_kind("/hls/s/source.m3u8?v=x") == "playlist"
    assert stats.request_kind("/ws") == "other"


def test_response_heads_give_status_and_length() -> None:
    """The lean client reads the status and Content-Length (any case); a non-HTTP head is
    refused."""
    head = b"HTTP/1.1 503 Service Unavailable\r\nServer: nginx\r\nContent-Length: 42\r\n\r\n"
    assert (status_of(head), content_length(head)) == (503, 42)
    assert content_length(b"HTTP/1.1 200 OK\r\ncontent-length:7\r\n\r\n") == 7
    assert content_length(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") is None
    with pytest.raises(HttpError):
        status_of(b"SSH-2.0-OpenSSH\r\n\r\n")


def test_a_player_starts_before_the_newest_independent_part() -> None:
    """Like hls.js at the live edge: from the newest part that starts with a keyframe."""
    listed = Playlists().parse(PLAYLIST.encode())
    assert start_point(listed) == (8, -1)
    assert listed.next_part() == (8, 2)


def test_players_of_a_process_share_each_parsed_playlist() -> None:
    """The same bytes are parsed once."""
    playlists = Playlists()
    assert playlists.parse(PLAYLIST.encode()) is playlists.parse(PLAYLIST.encode())
    assert playlists.parse(PLAYLIST.encode()) == parse_media(PLAYLIST)


def test_a_run_becomes_one_table_row() -> None:
    """Per-second rates over the window, milliseconds for fetches, the cores each part used."""
    figures = stats.Figures(
        players=5000, seconds=10.0, origin_requests=100, forwarded=50, player_requests=120_000,
        part_p50=0.0015, part_p99=0.5, behind_p50=0.25, behind_p99=0.51, coverage=0.995,
        part_target=0.2, errors=0, cpu={"nginx": 0.5, "nodes": 0.12, "players": 1.5},
        machine_busy=0.97,
    )  # fmt: skip
    assert row(figures) == (
        "| 5 000 | 10.0 | 5.0 | 12 000 | 2 / 500 | 0.25 / 0.51 | 99.5 % | 0 | "
        "0.50 / 0.12 / 1.50 | 97 % |"
    )


def test_a_run_on_a_saturated_machine_is_marked() -> None:
    """Players who did not keep up on a busy machine get a note; a run that kept up does not."""
    kept_up = stats.Figures(
        players=1000, seconds=10.0, origin_requests=100, forwarded=50, player_requests=100_000,
        part_p50=0.001, part_p99=0.01, behind_p50=0.25, behind_p99=0.5, coverage=0.999,
        part_target=0.2, errors=0, cpu={"players": 0.6}, machine_busy=0.99,
    )  # fmt: skip
    assert saturated(kept_up) == ""
    behind = replace(kept_up, players=5000, coverage=0.5)
    assert "At 5 000 players this machine was saturated (busy 99 %" in saturated(behind)
    assert "fetched 50 % of the parts" in saturated(behind)
