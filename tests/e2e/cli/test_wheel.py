"""The wheel (what the Docker image installs) carries the store's migrations: a node run from
it makes a new store's schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from studio.store.schema import head_revision
from tests.support.harness import sqlite_url
from tests.support.stores import run_torget

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ["torget", "studio", "web", "streaming", "realtime", "config"]


@pytest.mark.slow
def test_the_wheel_carries_the_migrations(tmp_path: Path) -> None:
    """Built from a copy of the sources and unpacked, the wheel's ``torget db upgrade --init``
    (its own ``studio``, not the checkout's) makes a store at the newest revision."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "node_modules")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check",
         "--outdir", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("torget-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("env.py", "script.py.mako", "alembic.ini", "versions/0001_baseline.py"):
        assert f"studio/store/migrations/{needed}" in names
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    result = run_torget(
        "db", "upgrade", "--init",
        store_url=sqlite_url(tmp_path), cwd=tmp_path, env={"PYTHONPATH": str(installed)},
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (
        0,
        f"Made a new store at revision {head_revision()}.\n",
    ), result.stderr
    shown = run_torget(
        "db", "current", store_url=sqlite_url(tmp_path), cwd=tmp_path,
        env={"PYTHONPATH": str(installed), "PYTHONVERBOSE": "1"},
    )  # fmt: skip
    assert f"{installed}/studio/store/schema.py" in shown.stderr
