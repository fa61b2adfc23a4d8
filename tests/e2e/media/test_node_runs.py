"""Node to node: a node lists and serves the runs it recorded of a session only to a request
carrying a node's pass for that session (signed with the deployment's key)."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec

from streaming.handover import RunListing
from streaming.vocab import RunKind
from streaming.vod import CLAIMS, JOURNAL, ClaimEntry, JournalEntry, journal_line
from studio.signing import Signer
from tests.support.harness import running_app, settings_for, sqlite_url
from web.keys import SIGNER
from web.media.runs import PASS_HEADER, node_pass

SESSION = "ses_recorded01"


async def test_a_node_shows_its_runs_only_to_a_node(tmp_path: Path) -> None:
    """Without a pass, with a forged one, or with one for another session: 403 and why; with
    the right pass: the listing (journal, claims, media files only) and each file's bytes; a
    name that is no media file of the session: 404."""
    settings = settings_for(sqlite_url(tmp_path), TORGET_MEDIA_DATA_DIR=str(tmp_path / "media"))
    directory = tmp_path / "media" / SESSION
    directory.mkdir(parents=True)
    (directory / JOURNAL).write_bytes(journal_line(JournalEntry(1, RunKind.INGEST, ("source",))))
    (directory / CLAIMS).write_bytes(journal_line(ClaimEntry(3, 1)))
    for name in ("r0001_0_init.mp4", "r0001_0_000001.m4s", "r0001_0_000002.m4s.tmp"):
        (directory / name).write_bytes(name.encode())
    (directory / "recording.json").write_bytes(b"{}")
    async with running_app(settings) as app:
        signer = app.web_app[SIGNER]
        now = time.time()
        runs = f"/internal/media/{SESSION}/runs"
        for headers in (
            {},
            {PASS_HEADER: node_pass(Signer(b"another deployment"), SESSION, now)},
            {PASS_HEADER: node_pass(signer, "ses_other00001", now)},
            {PASS_HEADER: node_pass(signer, SESSION, now - 3600)},
        ):
            answer = await app.client.get(runs, headers=headers)
            assert answer.status == 403
            assert (await answer.json())["error"]["message"] == (
                "only the deployment's nodes may fetch a session's recorded runs"
            )
        granted = {PASS_HEADER: node_pass(signer, SESSION, now)}
        answer = await app.client.get(runs, headers=granted)
        assert answer.status == 200
        listing = msgspec.json.decode(await answer.read(), type=RunListing)
        assert listing == RunListing(
            journal=(JournalEntry(1, RunKind.INGEST, ("source",)),),
            claims=(ClaimEntry(3, 1),),
            files=("r0001_0_000001.m4s", "r0001_0_000002.m4s.tmp", "r0001_0_init.mp4"),
        )
        answer = await app.client.get(f"{runs}/r0001_0_000002.m4s.tmp", headers=granted)
        assert answer.status == 200
        assert await answer.read() == b"r0001_0_000002.m4s.tmp"
        for name in ("recording.json", "r0001_0_000003.m4s", "r0001_0_init.mp4.tmp"):
            answer = await app.client.get(f"{runs}/{name}", headers=granted)
            assert answer.status == 404, name
            assert (await answer.json())["error"]["message"] == (
                "this node holds no such file of the session"
            )
