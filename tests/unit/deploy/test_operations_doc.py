"""docs/operations.md's configuration table names every setting there is, and no other."""

from __future__ import annotations

import re

import msgspec

from config.settings import Settings
from tests.support.deploy_files import REPO

OPERATIONS = REPO / "docs" / "operations.md"


def documented_keys() -> set[str]:
    """``section.key`` of every key in the configuration table's rows."""
    keys: set[str] = set()
    for line in OPERATIONS.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        section = re.match(r"`(\w+)`", cells[0])
        if section is None or not all(k.startswith("`") for k in cells[1].split(", ")):
            continue
        keys |= {f"{section.group(1)}.{key.strip('`')}" for key in cells[1].split(", ")}
    return keys


def setting_keys() -> set[str]:
    """``section.key`` of every field of Settings."""
    keys: set[str] = set()
    for section in msgspec.structs.fields(Settings):
        struct = section.type
        assert isinstance(struct, type)
        keys |= {f"{section.name}.{field.name}" for field in msgspec.structs.fields(struct)}
    return keys


def test_the_configuration_table_omits_no_setting() -> None:
    """Every key of config/settings.py is in the table, and the table names no other."""
    assert documented_keys() == setting_keys()
