"""Where a restream push may connect: address kinds, the allowed hosts, this node's ingest,
pinning, and the check before each push with what the host resolves to at that moment."""

from __future__ import annotations

import pytest

from streaming.ffmpeg_args import PipeInput, restream_args
from streaming.restream.reach import check_destination
from streaming.restream.urls import (
    OWN_INGEST,
    Reach,
    address_kind,
    pinned_url,
    push_endpoint,
    tc_url,
)
from streaming.vocab import AudioCodec, InputFormat


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.0.1", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "not public"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    """Each non-public range is named; public addresses are None."""
    assert address_kind(address) == kind


def test_refusal_allows_listed_names_and_ranges_and_refuses_the_ingest() -> None:
    """Allowed names and ranges pass; the node's own ingest is refused unless allowed."""
    reach = Reach.allowing(["relay.internal", "10.20.0.0/16"], {("ingest.example.org", 1935)})
    assert reach.refusal("relay.internal", 1935, ["10.9.9.9"]) is None
    assert reach.refusal("other", 1935, ["10.20.1.1"]) is None
    assert reach.refusal("other", 1935, ["10.21.1.1"]) == (
        "must not point at an internal address (10.21.1.1 is private); an administrator can "
        "allow the host in [media] restream_allowed_hosts"
    )
    assert reach.refusal("ingest.example.org", 1935, ["93.184.216.34"]) == OWN_INGEST
    resolved = {("93.184.216.34", 1935)}
    assert reach.refusal("alias.example.org", 1935, ["93.184.216.34"], resolved) == OWN_INGEST
    assert reach.refusal("alias.example.org", 443, ["93.184.216.34"], resolved) is None
    assert Reach().refusal("a.rtmp.youtube.com", 1935, ["142.250.74.14"]) is None
    relay = Reach.allowing(["127.0.0.1"], {("127.0.0.1", 1935)})
    assert relay.refusal("localhost", 1935, ["127.0.0.1"]) is None  # a relay into itself
    assert Reach.allowing([], {("127.0.0.1", 1935)}).refusal("x", 1935, ["127.0.0.1"]) == (
        OWN_INGEST
    )


def test_endpoint_pinning_and_tc_url() -> None:
    """Default ports per scheme; a pinned URL keeps port, path, query and credentials."""
    assert push_endpoint("rtmp://A.Example/live/k") == ("a.example", 1935)
    assert push_endpoint("rtmps://a.example/live/k") == ("a.example", 443)
    assert push_endpoint("rtmp://[::1]:1936/live/k") == ("::1", 1936)
    assert pinned_url("rtmp://u:p@a.example:1936/live2/k?x=1", "2001:db8::5") == (
        "rtmp://u:p@[2001:db8::5]:1936/live2/k?x=1"
    )
    assert pinned_url("rtmp://a.example/live2/key", "93.184.216.34") == (
        "rtmp://93.184.216.34/live2/key"
    )
    assert tc_url("rtmp://a.example/live2/key") == "rtmp://a.example:1935/live2"
    assert tc_url("rtmp://a.example:1936/app/sub/key") == "rtmp://a.example:1936/app"


async def test_check_uses_what_the_name_resolves_to_now() -> None:
    """The same URL passes while its name resolves to a public address and is refused once it
    resolves to an internal one; a plain rtmp push is pinned to the checked address."""
    answers = {"live.example.org": ["93.184.216.34"]}

    async def lookup(host: str, port: int) -> list[str]:
        return answers.get(host, [])

    url = "rtmp://live.example.org/app/key"
    first = await check_destination(url, Reach(), lookup)
    assert (first.refusal, first.url) == (None, "rtmp://93.184.216.34/app/key")
    answers["live.example.org"] = ["169.254.169.254"]
    later = await check_destination(url, Reach(), lookup)
    assert later.refusal is not None
    assert later.refusal.startswith("must not point at an internal address (169.254.169.254")
    secure = await check_destination("rtmps://live.example.org/app/key", Reach(), lookup)
    assert secure.refusal is not None  # rtmps is checked too (though not pinned)
    unresolved = await check_destination("rtmp://gone.example.org/app/key", Reach(), lookup)
    assert (unresolved.refusal, unresolved.resolved) == (None, False)
    assert unresolved.url == "rtmp://gone.example.org/app/key"


def test_restream_args_announce_the_tc_url_of_a_pinned_push() -> None:
    """A pinned push names the address and announces the destination's own tcUrl."""
    args = restream_args(
        PipeInput(InputFormat.FLV), "rtmp://93.184.216.34/app/key", audio=AudioCodec.AAC,
        tc_url="rtmp://live.example.org:1935/app",
    )  # fmt: skip
    assert args[-3:] == ["-rtmp_tcurl", "rtmp://live.example.org:1935/app",
                         "rtmp://93.184.216.34/app/key"]  # fmt: skip
