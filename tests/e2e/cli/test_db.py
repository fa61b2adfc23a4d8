"""Which store the command line uses: every command says it (password masked), none makes a
new empty store unless given ``--init``, and ``torget db upgrade``/``current`` look after its
schema; run as real subprocesses on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.harness import sqlite_url
from tests.support.stores import make_store_before_migrations, run_sql, run_torget

NO_STORE_HINT = (
    "(set TORGET_STORE_URL or --config to the nodes' store, or pass --init to make a new empty one)"
)


def test_token_create_without_the_nodes_store_refuses_and_writes_nothing(tmp_path: Path) -> None:
    """Run where no store exists, ``token create`` names the store it would have made, prints
    no token and leaves no file; with ``--init`` it makes the store and says so."""
    url = sqlite_url(tmp_path / "elsewhere")
    path = tmp_path / "elsewhere" / "torget.db"
    refused = run_torget("token", "create", "--role", "admin", store_url=url)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.splitlines() == [
        f"torget: store {url}",
        f"torget: no store at {url}: {path} does not exist {NO_STORE_HINT}",
    ]
    assert not path.parent.exists()
    made = run_torget("token", "create", "--init", "--role", "admin", store_url=url)
    assert made.returncode == 0, made.stderr
    assert made.stderr.splitlines() == [f"torget: store {url}"]
    assert made.stdout.splitlines()[-1].startswith("tgt_")
    assert path.is_file()


def test_reading_commands_refuse_an_absent_store_without_offering_init(tmp_path: Path) -> None:
    """``token list``, ``program export`` and ``db current`` have nothing to read in a store
    that does not exist: they refuse (no ``--init`` to offer) and make no file."""
    url = sqlite_url(tmp_path)
    for args in (("token", "list"), ("program", "export"), ("db", "current")):
        result = run_torget(*args, store_url=url)
        assert result.returncode == 2, args
        assert result.stderr.splitlines()[-1] == (
            f"torget: no store at {url}: {tmp_path / 'torget.db'} does not exist "
            "(set TORGET_STORE_URL or --config to the nodes' store)"
        )
    assert not (tmp_path / "torget.db").exists()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_postgresql_store_is_named_with_its_password_masked(postgres_db_url: str) -> None:
    """On an empty PostgreSQL database ``token create`` refuses (it has no tables) and with
    ``--init`` issues a token ``token list`` then shows; the password never appears."""
    parsed = make_url(postgres_db_url)
    url = parsed.set(password="s3cret-pw").render_as_string(hide_password=False)
    masked = parsed.set(password="s3cret-pw").render_as_string(hide_password=True)
    assert "***" in masked
    refused = run_torget("token", "create", "--role", "operator", store_url=url)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"torget: store {masked}",
        f"torget: no store at {masked}: the database has no tables {NO_STORE_HINT}",
    ]
    made = run_torget("token", "create", "--init", "--role", "operator", "--name", "Norr",
                      store_url=url)  # fmt: skip
    listed = run_torget("token", "list", store_url=url)
    assert (made.returncode, listed.returncode) == (0, 0), made.stderr + listed.stderr
    assert "\toperator\t*\tNorr" in listed.stdout
    for result in (refused, made, listed):
        assert "s3cret-pw" not in result.stdout + result.stderr


def test_db_upgrade_and_current_on_a_new_store(tmp_path: Path) -> None:
    """``db upgrade`` refuses to make a store without ``--init``, makes it with it, has nothing
    to do the second time; ``db current`` reports the newest revision."""
    url = sqlite_url(tmp_path)
    refused = run_torget("db", "upgrade", store_url=url)
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1].endswith(f"does not exist {NO_STORE_HINT}")
    made = run_torget("db", "upgrade", "--init", store_url=url)
    assert (made.returncode, made.stdout) == (0, "Made a new store at revision 0002.\n")
    again = run_torget("db", "upgrade", store_url=url)
    assert again.stdout == "The store is at revision 0002, the newest: nothing to do.\n"
    current = run_torget("db", "current", store_url=url)
    assert (current.returncode, current.stdout) == (0, "revision 0002 (the newest)\n")
    assert current.stderr == f"torget: store {url}\n"


def test_db_upgrade_marks_a_store_made_before_migrations(tmp_path: Path) -> None:
    """``db current`` recognises a store made before migrations, ``db upgrade`` marks it
    (no ``--init`` needed: it is not new) and its tokens are still there."""
    url = sqlite_url(tmp_path)
    asyncio.run(make_store_before_migrations(url))
    before = run_torget("db", "current", store_url=url)
    assert before.stdout == (
        "no revision: the store was made before migrations (`torget db upgrade` or the next "
        "start of a node marks it 0001 and upgrades it)\n"
    )
    upgraded = run_torget("db", "upgrade", store_url=url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert (
        upgraded.stdout
        == "Marked the store made before migrations as revision 0001; now at 0002.\n"
    )
    assert run_torget("token", "list", store_url=url).stdout.startswith("tok_legacy\toperator\t")


@pytest.mark.postgres
@pytest.mark.slow
def test_db_current_on_an_empty_database_and_an_unknown_revision(postgres_db_url: str) -> None:
    """An empty database is reported as such (and left empty); a revision from a newer Torget
    is named, and ``db upgrade`` then refuses."""
    empty = run_torget("db", "current", store_url=postgres_db_url)
    assert (empty.returncode, empty.stdout) == (
        0, "no schema yet: the database is empty (`torget db upgrade --init` makes it)\n"
    )  # fmt: skip
    assert run_torget("db", "upgrade", "--init", store_url=postgres_db_url).returncode == 0
    asyncio.run(run_sql(postgres_db_url, "UPDATE alembic_version SET version_num = '0099'"))
    newer = run_torget("db", "current", store_url=postgres_db_url)
    assert newer.stdout == (
        "revision 0099, unknown to this Torget (it knows up to 0002): run a newer Torget\n"
    )
    refused = run_torget("db", "upgrade", store_url=postgres_db_url)
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1].endswith(
        "has schema revision 0099, which this Torget does not know (it knows up to 0002): run "
        "a newer Torget"
    )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])]
)
def test_upgrades_started_at_the_same_moment_take_turns(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Five ``torget db upgrade --init`` processes started together on one new store all
    succeed: one makes the schema, the others find it done."""
    url = (
        sqlite_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("postgres_db_url")
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "torget", "db", "upgrade", "--init"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"PATH": "/usr/bin:/bin", "TORGET_STORE_URL": url},
        )
        for _ in range(5)
    ]
    outcomes = [(*p.communicate(timeout=60), p.returncode) for p in processes]
    assert [code for _, _, code in outcomes] == [0] * 5, outcomes
    said = sorted(out for out, _, _ in outcomes)
    assert said == [
        "Made a new store at revision 0002.\n",
        *["The store is at revision 0002, the newest: nothing to do.\n"] * 4,
    ]
