"""The runs other nodes recorded of a session, brought to the node that builds its recording.

When a session's publisher moves to another node (its node died, or it reconnected elsewhere),
each node that held the media keeps the runs it recorded on its own disk. The final owner (the
node holding the latest ownership epoch) builds the recording: first it asks every other node
named in the session's claims for a ``RunListing`` of its files (``list_runs`` on that node),
then copies the ingest runs it does not have yet under run numbers of its own (``plan_import``,
pure: which runs, which files, which new names), each noted in its run journal with the node,
the run's number there and the epoch it was recorded under. ``vod.in_recording_order`` then
puts every run where it was broadcast. See ``docs/architecture.md`` ("Media failover").
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import msgspec

from streaming import names
from streaming.errors import InvalidName
from streaming.vocab import ResourceKind, RunKind
from streaming.vod import (
    CLAIMS,
    JOURNAL,
    ClaimEntry,
    JournalEntry,
    in_recording_order,
    journal_line,
    parse_claims,
    parse_journal,
    run_epoch,
)

TMP = ".tmp"  # a segment ffmpeg was writing when its run ended (killed): its complete part counts
PART = ".part"  # a file being copied in


class RunListing(msgspec.Struct, frozen=True):
    """What a node holds of a session's media: its run journal, its claim journal, and the
    names of its init segments and segments (``.tmp`` for one cut short)."""

    journal: tuple[JournalEntry, ...] = ()
    claims: tuple[ClaimEntry, ...] = ()
    files: tuple[str, ...] = ()


class RunSource(Protocol):
    """How the final owner reaches another node's runs (``web.media.runs.NodeRuns``)."""

    async def listing(self, node_url: str, session_id: str) -> RunListing:
        """The node's ``RunListing`` of the session; ``RunsUnreachable`` when it cannot tell."""

    async def download(self, node_url: str, session_id: str, name: str, into: Path) -> None:
        """Write the node's file ``name`` of the session to ``into``; ``RunsUnreachable``."""


@dataclass(frozen=True)
class Brought:
    """What one node's runs gave: how many were copied now, and the ownership epochs of every
    run it listed (slates too: each claim starts a run, so an epoch missing from it means that
    node's files of it are gone)."""

    copied: int
    epochs: frozenset[int]


def listed_epochs(listing: RunListing) -> frozenset[int]:
    """The ownership epochs of the runs ``listing`` holds files of."""
    journal = {entry.run: entry for entry in listing.journal}
    claims = sorted(listing.claims, key=lambda claim: (claim.from_run, claim.epoch))
    runs = {parsed.run for name in listing.files if (parsed := media_file(name)) is not None}
    return frozenset(run_epoch(run, journal, claims) for run in runs)


@dataclass(frozen=True)
class RunImport:
    """One run to bring over: its journal line here, and (name there, name here) per file."""

    entry: JournalEntry
    files: tuple[tuple[str, str], ...]


def media_file(name: str) -> names.ResourceName | None:
    """The init segment or segment a listed file name holds (``.tmp`` allowed for a segment),
    or None for any other name."""
    base = name.removesuffix(TMP)
    try:
        parsed = names.parse_name(base)
    except InvalidName:
        return None
    if parsed.kind is ResourceKind.SEGMENT or (parsed.kind is ResourceKind.INIT and base == name):
        return parsed
    return None


def _renamed(parsed: names.ResourceName, run: int, tmp: bool) -> str:
    if parsed.kind is ResourceKind.INIT:
        return names.init_name(run, parsed.rendition)
    return names.segment_name(run, parsed.rendition, parsed.number) + (TMP if tmp else "")


def plan_import(
    listing: RunListing, origin: str, here: dict[int, JournalEntry], first_free: int
) -> list[RunImport]:
    """The ingest runs of ``listing`` (from the node ``origin``) not brought over yet, in the
    order they were broadcast, numbered from ``first_free`` on. Runs the node itself brought
    from elsewhere are left to their own node; slates are never part of a recording."""
    done = {(entry.origin, entry.source_run) for entry in here.values() if entry.origin}
    journal = {entry.run: entry for entry in listing.journal}
    claims = sorted(listing.claims, key=lambda claim: (claim.from_run, claim.epoch))
    by_run: dict[int, list[tuple[str, names.ResourceName]]] = {}
    for name in listing.files:
        parsed = media_file(name)
        if parsed is not None:
            by_run.setdefault(parsed.run, []).append((name, parsed))
    imports: list[RunImport] = []
    number = first_free
    for run in in_recording_order(by_run, journal, claims):
        entry = journal.get(run)
        if entry is not None and (entry.kind is not RunKind.INGEST or entry.origin):
            continue
        files = by_run[run]
        if (origin, run) in done or not any(p.kind is ResourceKind.INIT for _, p in files):
            continue
        if number > names.MAX_RUN:
            break
        copies = tuple(
            (name, _renamed(parsed, number, name.endswith(TMP))) for name, parsed in files
        )
        line = JournalEntry(
            number,
            RunKind.INGEST,
            entry.renditions if entry is not None else (),
            epoch=run_epoch(run, journal, claims),
            origin=origin,
            source_run=run,
            clock_ms=None if entry is None else entry.clock_ms,
        )
        imports.append(RunImport(line, copies))
        number += 1
    return imports


# --- files (blocking: call in a worker thread) ------------------------------------------------


def read_if_there(path: Path) -> bytes:
    """The file's bytes, or none when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def list_runs(directory: Path) -> RunListing:
    """This node's ``RunListing`` of the session in ``directory`` (empty when it has none)."""
    try:
        listing = sorted(p.name for p in directory.iterdir())
    except FileNotFoundError:
        return RunListing()
    journal = parse_journal(read_if_there(directory / JOURNAL))
    return RunListing(
        journal=tuple(journal[run] for run in sorted(journal)),
        claims=tuple(parse_claims(read_if_there(directory / CLAIMS))),
        files=tuple(name for name in listing if media_file(name) is not None),
    )


def next_free_run(directory: Path) -> int:
    """One more than the highest run number in ``directory``'s files and run journal, and at
    least the first run of its latest claim (``claim_first_run``)."""
    runs = list(parse_journal(read_if_there(directory / JOURNAL)))
    runs += [claim.from_run - 1 for claim in parse_claims(read_if_there(directory / CLAIMS))]
    try:
        for path in directory.iterdir():
            parsed = media_file(path.name)
            if parsed is not None:
                runs.append(parsed.run)
    except FileNotFoundError:
        pass
    return max(runs, default=0) + 1


def claim_first_run(directory: Path, epoch: int) -> int:
    """The first run of this node's claim of the session's media under ``epoch``
    (``names.first_run``: past an earlier owner's numbers unless the previous epoch was ours)."""
    claims = parse_claims(read_if_there(directory / CLAIMS))
    held = any(claim.epoch == epoch - 1 for claim in claims)
    return names.first_run(epoch, next_free_run(directory), held)


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _discard_parts(directory: Path) -> None:
    for path in directory.glob(f"*{PART}"):
        if media_file(path.name.removesuffix(PART)) is not None:
            path.unlink(missing_ok=True)


def _commit(directory: Path, item: RunImport) -> None:
    """Note the run in the journal, then give the copied files their names, the init segment
    last: a run brought over counts as there only once its init segment is (``_brought``), so
    an import cut short is made again, and a run without its init segment is never scanned."""
    _append(directory / JOURNAL, journal_line(item.entry))
    for _, local in sorted(item.files, key=lambda names_: names_[1].endswith("_init.mp4")):
        os.replace(directory / f"{local}{PART}", directory / local)


def _brought(directory: Path) -> dict[int, JournalEntry]:
    """The journal's entries of runs whose init segment is here."""
    journal = parse_journal(read_if_there(directory / JOURNAL))
    present = {
        parsed.run
        for path in directory.glob("*_init.mp4")
        if (parsed := media_file(path.name)) is not None
    }
    return {run: entry for run, entry in journal.items() if run in present}


# --- the adapter ------------------------------------------------------------------------------


async def import_runs(directory: Path, session_id: str, origin: str, source: RunSource) -> Brought:
    """Bring the ingest runs ``origin`` holds of the session to ``directory`` (``RunsUnreachable``
    when the node cannot be asked or a file not read)."""
    listing = await source.listing(origin, session_id)
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(_discard_parts, directory)
    here = await asyncio.to_thread(_brought, directory)
    first_free = await asyncio.to_thread(next_free_run, directory)
    plan = plan_import(listing, origin, here, first_free)
    for item in plan:
        for remote, local in item.files:
            await source.download(origin, session_id, remote, directory / f"{local}{PART}")
        await asyncio.to_thread(_commit, directory, item)
    return Brought(len(plan), listed_epochs(listing))
