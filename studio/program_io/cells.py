"""CSV cells: what a spreadsheet could run as a formula gets a leading ``'`` (taken off again on
import), and speakers share one cell, separated by ``;``.
"""

from __future__ import annotations

import re

_FORMULA = re.compile(r"'*[=+\-@\t\r]")  # what a spreadsheet may run as a formula


def guard(cell: str) -> str:
    """The cell with a leading ``'`` when a spreadsheet could run it as a formula."""
    return "'" + cell if _FORMULA.match(cell) else cell


def unguard(cell: str) -> str:
    """Undo ``guard``."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell) else cell


def join_speakers(names: list[str]) -> str:
    """Names joined with ``; `` (``\\;`` is a semicolon inside a name, ``\\\\`` a backslash)."""
    return "; ".join(n.replace("\\", "\\\\").replace(";", "\\;") for n in names)


def split_speakers(cell: str) -> list[str]:
    """Split on ``;``; ``\\;`` is a semicolon inside a name and ``\\\\`` a backslash."""
    names: list[str] = []
    current: list[str] = []
    chars = iter(cell)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            current.append(following if following in ("\\", ";") else char + following)
        elif char == ";":
            names.append("".join(current))
            current = []
        else:
            current.append(char)
    names.append("".join(current))
    return [name.strip() for name in names if name.strip()]
