"""Bringing the runs another node recorded to the node that builds the recording: which runs,
which files under which new names, and an import cut short made again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from streaming.errors import RunsUnreachable
from streaming.handover import (
    PART,
    RunListing,
    import_runs,
    list_runs,
    listed_epochs,
    media_file,
    next_free_run,
    plan_import,
)
from streaming.vocab import RunKind
from streaming.vod import CLAIMS, JOURNAL, ClaimEntry, JournalEntry, journal_line, parse_journal

A = "http://torget-1:8080"
R = ("source", "audio")


def files(run: int, segments: int, *, cut: bool = False) -> tuple[str, ...]:
    """A run's init segments and segments of two renditions (the last cut short if ``cut``)."""
    names = [f"r{run:04d}_{r}_init.mp4" for r in (0, 1)]
    for number in range(1, segments + 1):
        tmp = ".tmp" if cut and number == segments else ""
        names += [f"r{run:04d}_{r}_{number:06d}.m4s{tmp}" for r in (0, 1)]
    return tuple(names)


LISTING = RunListing(
    journal=(
        JournalEntry(1, RunKind.STARTING_SOON, R),
        JournalEntry(2, RunKind.INGEST, R),
        JournalEntry(3, RunKind.BE_RIGHT_BACK, R),
        JournalEntry(4, RunKind.INGEST, R, clock_ms=1_779_260_400_000),
        JournalEntry(5, RunKind.INGEST, R, epoch=2, origin="http://torget-3:8080", source_run=1),
    ),
    claims=(ClaimEntry(1, 1), ClaimEntry(3, 4)),
    files=files(1, 1) + files(2, 2) + files(3, 1) + files(4, 1, cut=True) + files(5, 1)
    + ("recording.json", "runs.jsonl", "r0002_0_000001.1.m4s"),
)  # fmt: skip


def test_only_ingest_runs_of_the_node_itself_are_brought_in_broadcast_order() -> None:
    """Slates stay behind, and so do runs the node brought from elsewhere itself; each run
    gets the next free number here, its files renamed (``.tmp`` kept), its epoch and origin,
    and its clock (the replay's captions are timed by it)."""
    plan = plan_import(LISTING, A, {}, 7)
    assert [item.entry for item in plan] == [
        JournalEntry(7, RunKind.INGEST, R, epoch=1, origin=A, source_run=2),
        JournalEntry(8, RunKind.INGEST, R, epoch=3, origin=A, source_run=4,
                     clock_ms=1_779_260_400_000),
    ]  # fmt: skip
    assert plan[1].files == (
        ("r0004_0_init.mp4", "r0008_0_init.mp4"),
        ("r0004_1_init.mp4", "r0008_1_init.mp4"),
        ("r0004_0_000001.m4s.tmp", "r0008_0_000001.m4s.tmp"),
        ("r0004_1_000001.m4s.tmp", "r0008_1_000001.m4s.tmp"),
    )
    assert len(plan[0].files) == 6
    assert listed_epochs(LISTING) == {1, 2, 3}


def test_runs_already_brought_over_or_without_init_segment_are_not_copied() -> None:
    """A run noted here as brought from the same node and run is skipped; a run of which the
    node has no init segment cannot be played and is left behind."""
    here = {7: JournalEntry(7, RunKind.INGEST, R, epoch=1, origin=A, source_run=2)}
    plan = plan_import(LISTING, A, here, 9)
    assert [(item.entry.run, item.entry.source_run) for item in plan] == [(9, 4)]
    headless = RunListing(files=files(1, 1)[2:])
    assert plan_import(headless, A, {}, 1) == []
    assert plan_import(LISTING, "http://torget-2:8080", here, 9)[0].entry.source_run == 2


def test_only_media_files_are_listed() -> None:
    """Init segments and segments (``.tmp`` for a segment only) are media files; parts,
    playlists, the manifest and anything else are not."""
    assert media_file("r0001_0_init.mp4") is not None
    assert media_file("r0001_0_000001.m4s.tmp") is not None
    for name in ("r0001_0_init.mp4.tmp", "r0001_0_000001.1.m4s", "source.m3u8", "../x.m4s"):
        assert media_file(name) is None, name


def write(directory: Path, listing: RunListing) -> None:
    """Lay ``listing`` out as files in ``directory`` (each file holds its own name)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in listing.files:
        (directory / name).write_bytes(name.encode())
    (directory / JOURNAL).write_bytes(b"".join(journal_line(e) for e in listing.journal))
    (directory / CLAIMS).write_bytes(b"".join(journal_line(c) for c in listing.claims))


class Directories:
    """Other nodes' runs read from local directories (node URL -> directory): the transport
    is ``web.media.runs.NodeRuns``, tested end to end in tests/e2e/media/test_failover.py."""

    def __init__(self, nodes: dict[str, Path], fail_after: int | None = None) -> None:
        self.nodes = nodes
        self.fail_after = fail_after
        self.downloads = 0

    async def listing(self, node_url: str, session_id: str) -> RunListing:
        if node_url not in self.nodes:
            raise RunsUnreachable(f"{node_url}: connection refused")
        return list_runs(self.nodes[node_url])

    async def download(self, node_url: str, session_id: str, name: str, into: Path) -> None:
        if self.fail_after is not None and self.downloads >= self.fail_after:
            raise RunsUnreachable(f"{node_url}: connection reset")
        self.downloads += 1
        data = await asyncio.to_thread((self.nodes[node_url] / name).read_bytes)
        await asyncio.to_thread(into.write_bytes, data)


def test_a_node_lists_what_it_recorded(tmp_path: Path) -> None:
    """``list_runs`` reads back what the node wrote; a node without the session lists none."""
    write(tmp_path / "s", LISTING)
    listed = list_runs(tmp_path / "s")
    assert listed.journal == LISTING.journal
    assert listed.claims == LISTING.claims
    assert set(listed.files) == {name for name in LISTING.files if media_file(name)}
    assert list_runs(tmp_path / "none") == RunListing()
    assert next_free_run(tmp_path / "s") == 6
    assert next_free_run(tmp_path / "none") == 1


def test_an_import_cut_short_is_made_again(tmp_path: Path) -> None:
    """Files are copied aside and take their names once all are there, the init segment last;
    a run whose copy broke off is copied again under a new number, and a second import of
    the same node copies nothing more."""
    there, here = tmp_path / "there", tmp_path / "here"
    write(there, LISTING)
    write(here, RunListing(journal=(JournalEntry(1, RunKind.INGEST, R),), files=files(1, 1)))
    broken = Directories({A: there}, fail_after=8)
    with pytest.raises(RunsUnreachable):
        asyncio.run(import_runs(here, "s", A, broken))
    assert len(list(here.glob(f"*{PART}"))) == 2  # left for the next import to clear
    first = parse_journal((here / JOURNAL).read_bytes())
    assert sorted(first) == [1, 2]  # run 2 (source run 2) complete; source run 4 broke off
    source = Directories({A: there})
    brought = asyncio.run(import_runs(here, "s", A, source))
    assert (brought.copied, brought.epochs) == (1, frozenset({1, 2, 3}))
    assert not list(here.glob(f"*{PART}"))
    journal = parse_journal((here / JOURNAL).read_bytes())
    assert [(run, e.source_run) for run, e in sorted(journal.items()) if e.origin] == [
        (2, 2),
        (3, 4),
    ]
    assert (here / "r0003_0_000001.m4s.tmp").read_bytes() == b"r0004_0_000001.m4s.tmp"
    assert asyncio.run(import_runs(here, "s", A, source)).copied == 0


def test_an_unreachable_node_raises(tmp_path: Path) -> None:
    """A node that cannot be asked: ``RunsUnreachable``, nothing written."""
    with pytest.raises(RunsUnreachable):
        asyncio.run(import_runs(tmp_path / "here", "s", A, Directories({})))
    assert not (tmp_path / "here").exists()


def test_a_run_noted_but_not_renamed_is_brought_again(tmp_path: Path) -> None:
    """The journal notes a run before its files take their names: a run noted as brought
    whose init segment is not here (the node stopped in between) is copied again."""
    there, here = tmp_path / "there", tmp_path / "here"
    write(there, RunListing(journal=(JournalEntry(1, RunKind.INGEST, R),), files=files(1, 1)))
    noted = JournalEntry(1, RunKind.INGEST, R, epoch=0, origin=A, source_run=1)
    write(here, RunListing(journal=(noted,)))
    brought = asyncio.run(import_runs(here, "s", A, Directories({A: there})))
    assert brought.copied == 1
    assert (here / "r0002_0_init.mp4").is_file()
    assert parse_journal((here / JOURNAL).read_bytes())[2].source_run == 1
