"""The ``torget`` command line, run as a real subprocess against a real store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from config.settings import DEMO_PROGRAM_FILE
from tests.support.harness import sqlite_url
from tests.support.stores import run_torget


def torget(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m torget`` with a store under ``tmp_path``."""
    return run_torget(*args, store_url=sqlite_url(tmp_path))


def test_token_create_prints_a_secret_once_and_list_never_shows_it(tmp_path: Path) -> None:
    """The new token is printed; listing shows its id and role but not the secret."""
    made = torget(
        tmp_path, "token", "create", "--init", "--role", "operator", "--name", "Studio Norr"
    )
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("tgt_")
    assert "all studios" in made.stdout
    listed = torget(tmp_path, "token", "list")
    assert "operator" in listed.stdout
    assert "Studio Norr" in listed.stdout
    assert secret not in listed.stdout
    token_id = listed.stdout.split("\t")[0]
    revoked = torget(tmp_path, "token", "revoke", token_id)
    assert revoked.returncode == 0
    assert torget(tmp_path, "token", "list").stdout == ""


def test_token_for_unknown_studio_is_refused(tmp_path: Path) -> None:
    """A token scoped to a studio that does not exist is refused, exit status 2."""
    made = torget(
        tmp_path, "token", "create", "--init", "--role", "moderator", "--studio", "std_nope"
    )
    assert made.returncode == 2
    assert made.stderr.splitlines()[-1] == "torget: studio 'std_nope' does not exist"


def test_program_import_then_export_round_trips(tmp_path: Path) -> None:
    """Importing the demo file and exporting gives the same studios and sessions."""
    imported = torget(tmp_path, "program", "import", "--init", str(DEMO_PROGRAM_FILE))
    assert imported.returncode == 0, imported.stderr
    assert "3 studios created, 30 sessions created" in imported.stdout
    exported = yaml.safe_load(torget(tmp_path, "program", "export").stdout)
    demo = yaml.safe_load(DEMO_PROGRAM_FILE.read_text(encoding="utf-8"))
    assert {s["title"] for s in exported["sessions"]} == {s["title"] for s in demo["sessions"]}
    again = tmp_path / "again.yaml"
    again.write_text(torget(tmp_path, "program", "export").stdout, encoding="utf-8")
    second = torget(tmp_path, "program", "import", str(again))
    assert "0 studios created, 0 sessions created, 30 updated" in second.stdout
    csv_out = torget(tmp_path, "program", "export", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("id,studio,title")


def test_program_import_can_move_to_a_date(tmp_path: Path) -> None:
    """--move-to shifts the programme by whole days to the given first day."""
    moved = torget(
        tmp_path, "program", "import", "--init", str(DEMO_PROGRAM_FILE), "--move-to", "2027-03-01"
    )
    assert moved.returncode == 0, moved.stderr
    exported = yaml.safe_load(torget(tmp_path, "program", "export").stdout)
    assert min(str(s["starts_at"]) for s in exported["sessions"]).startswith("2027-03-01")


def test_bad_program_file_is_reported_and_imports_nothing(tmp_path: Path) -> None:
    """An invalid session anywhere in the file stops the import before anything is written."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "timezone: Europe/Stockholm\n"
        "sessions:\n"
        "  - {studio: A, title: Fine, starts_at: '2026-05-20 09:00', ends_at: '2026-05-20 10:00'}\n"
        "  - {studio: A, title: Bad, starts_at: '2026-05-20 12:00', ends_at: '2026-05-20 11:00'}\n",
        encoding="utf-8",
    )
    result = torget(tmp_path, "program", "import", "--init", str(bad))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "torget: sessions[1].ends_at: must be after starts_at"
    assert torget(tmp_path, "program", "export").stdout.count("title:") == 0


def test_bad_configuration_is_named(tmp_path: Path) -> None:
    """A wrong TORGET_* value stops the command with the key and the problem."""
    env = {**os.environ, "TORGET_SERVER_PORT": "http"}
    result = subprocess.run(
        [sys.executable, "-m", "torget", "token", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "server.port: Expected int, got str" in result.stderr


def test_configured_colours_below_wcag_contrast_stop_the_command(tmp_path: Path) -> None:
    """A pale text colour in the settings is named with its pair and ratio before anything
    starts."""
    env = {
        **os.environ,
        "TORGET_EVENT_BRAND_BACKGROUND": "#ffffff",
        "TORGET_EVENT_BRAND_TEXT": "#aaaaaa",
        "TORGET_EVENT_BRAND_ACCENT": "#0b57a4",
    }
    result = subprocess.run(
        [sys.executable, "-m", "torget", "token", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "torget: invalid configuration: event.brand_text: text #aaaaaa on background #ffffff "
        "has a contrast of 2.32:1; WCAG AA asks for at least 4.5:1 for text\n"
    )
