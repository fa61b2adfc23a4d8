"""The documents name only code that exists: every backticked file path (``streaming/owners.py``,
``whip/ingest.py``), dotted name (``web.errors.ANSWERS``, ``Programme.sign_in``), settings key
(``server.node_url``) and class name (``SessionPipeline``) in docs/*.md, and every file path in
their diagrams, is found in the tree.

What is not a code name (URLs, headers, commands, JSON fields, runtime file names) is left
alone: a dotted name whose first part is no package, module or class of ours is not checked,
and one the code spells as a string (``chat.send``, ``recording.json``) counts as known.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "studio", "streaming", "realtime", "web", "torget", "bench")
TOP_DIRS = (*PACKAGES, "tests", "docs", "deploy")
FILE_SUFFIXES = (".py", ".js", ".mjs", ".md", ".toml", ".css", ".html", ".yaml", ".yml")
NOT_SOURCE = {".venv", "node_modules", ".git", "__pycache__", "data", "test-artifacts"}

SPAN = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"^[\w-][\w.-]*(/[\w.-]+)*/?$")
DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+(\(\))?$")
CAMEL_CASE = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$")
DIAGRAM_PATH = re.compile(
    r"(?<![\w./-])(?:(?:[\w-]+/)*[\w-]+\.py\b|(?:" + "|".join(TOP_DIRS) + r")/[\w./-]*)"
)


@dataclass(frozen=True)
class Code:
    """What the documents may name: files, modules, classes, strings, settings, JS names."""

    files: tuple[str, ...]
    modules: dict[str, ModuleType]
    by_short_name: dict[str, list[ModuleType]]
    classes: dict[str, list[type]]
    strings: frozenset[str]
    js_names: frozenset[str]
    settings: Settings


@functools.cache
def code() -> Code:
    """Index the tree once: every source file, our modules (imported), their classes and the
    strings they spell, the browser modules' names and the settings."""
    files = tuple(
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*")
        if path.is_file() and not NOT_SOURCE & set(path.relative_to(ROOT).parts)
    )
    modules: dict[str, ModuleType] = {}
    strings: set[str] = set()
    for name in files:
        if name.endswith(".py") and name.split("/")[0] in PACKAGES:
            tree = ast.parse((ROOT / name).read_text())
            strings |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
                        and isinstance(n.value, str)}  # fmt: skip
            # Alembic runs the migration scripts itself; importing them runs nothing of ours.
            if not name.endswith("__main__.py") and "/migrations/" not in name:
                dotted = name.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
                modules[dotted] = importlib.import_module(dotted)
    by_short_name: dict[str, list[ModuleType]] = {}
    classes: dict[str, list[type]] = {}
    for dotted, module in modules.items():
        by_short_name.setdefault(dotted.rsplit(".", 1)[-1], []).append(module)
        for attr, value in vars(module).items():
            if inspect.isclass(value) and value.__module__.split(".")[0] in PACKAGES:
                classes.setdefault(attr, []).append(value)
    js_names = {
        found
        for name in files
        if name.startswith("web/static/") and name.endswith(".js") and "/vendor/" not in name
        for found in re.findall(r"(?:class|function|const|let)\s+(\w+)", (ROOT / name).read_text())
    }
    return Code(files, modules, by_short_name, classes, frozenset(strings),
                frozenset(js_names), load_settings(None, {}))  # fmt: skip


def has(owner: object, attr: str) -> bool:
    """Whether ``owner`` has ``attr``: as an attribute, a field, a slot, or set on ``self``."""
    if hasattr(owner, attr):
        return True
    if not inspect.isclass(owner):
        return False
    for klass in owner.__mro__:
        if attr in getattr(klass, "__annotations__", {}) or attr in getattr(klass, "__slots__", ()):
            return True
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        if re.search(rf"self\.{re.escape(attr)}\b", source):
            return True
    return False


def reaches(owner: object, path: list[str]) -> bool:
    """Whether ``owner.path[0].path[1]...`` exists."""
    for attr in path:
        if not has(owner, attr):
            return False
        owner = getattr(owner, attr, None)
    return True


def dotted_exists(name: str) -> bool | None:
    """Whether a dotted name exists (True/False), or None when it is not a name of ours."""
    index = code()
    parts = name.removesuffix("()").split(".")
    section = getattr(index.settings, parts[0], None)
    if len(parts) == 2 and section is not None and hasattr(section, parts[1]):
        return True  # a settings key: [server] node_url
    if parts[0] in PACKAGES:
        for cut in range(len(parts), 0, -1):
            module = index.modules.get(".".join(parts[:cut]))
            if module is not None:
                return reaches(module, parts[cut:])
        return False
    owners: list[object] = [*index.by_short_name.get(parts[0], []),
                            *index.classes.get(parts[0], [])]  # fmt: skip
    if not owners:
        return None
    return any(reaches(owner, parts[1:]) for owner in owners)


def problem(span: str) -> str | None:
    """What is wrong with a backticked span of a document, or None."""
    index = code()
    if span.startswith(".") or span in index.strings:
        return None
    if PATH.match(span) and (
        ("/" in span and span.split("/")[0] in TOP_DIRS) or span.endswith(FILE_SUFFIXES)
    ):
        wanted = span.rstrip("/")
        found = any(f == wanted or f.endswith("/" + wanted) or f.startswith(wanted + "/")
                    for f in index.files)  # fmt: skip
        return None if found else f"no file {span}"
    if DOTTED.match(span):
        return None if dotted_exists(span) is not False else f"no name {span}"
    if CAMEL_CASE.match(span):
        known = (
            span in index.classes
            or span in index.js_names
            or any(span in vars(module) for module in index.modules.values())
        )
        return None if known else f"no class {span}"
    return None


def mentions(text: str) -> Iterator[tuple[int, str]]:
    """A document's code names by line: its backticked spans, and the paths in its diagrams."""
    in_diagram = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            in_diagram = not in_diagram
            continue
        for span in SPAN.findall(line):
            yield number, span
        if in_diagram:
            for path in DIAGRAM_PATH.findall(line):
                yield number, path


def test_every_code_name_in_the_documents_exists() -> None:
    """Each file, module, class, function and settings key docs/*.md names is in the tree."""
    problems = [
        f"{doc.relative_to(ROOT)}:{number}: {found}"
        for doc in sorted((ROOT / "docs").glob("*.md"))
        for number, span in mentions(doc.read_text())
        if (found := problem(span)) is not None
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("span", "found"),
    [
        ("streaming/owners.py", None),
        ("whip/ingest.py", None),
        ("studio/program_io/", None),
        ("streaming/hls_http.py", "no file streaming/hls_http.py"),
        ("web.errors.ANSWERS", None),
        ("web.errors.ANSWER", "no name web.errors.ANSWER"),
        ("streaming.whep_http", "no name streaming.whep_http"),
        ("Programme.sign_in", None),
        ("Programme.tick()", None),
        ("Programme.sign_on", "no name Programme.sign_on"),
        ("WhepFull.hls", None),
        ("Connection.gated", None),
        ("server.node_url", None),
        ("server.node_uri", "no name server.node_uri"),
        ("SessionPipeline", None),
        ("SessionPipe", "no class SessionPipe"),
        ("ApiError", None),  # web/static/api.js
        ("GET /api/v1/sessions/{id}", None),
        ("X-Torget-Takeover", None),
        ("aiohttp.ClientSession", None),
        ("chat.send", None),
        ("recording.json", None),
        ("make test-fast", None),
        (".env", None),
    ],
)
def test_the_check_tells_stale_names_from_real_ones_and_leaves_other_text_alone(
    span: str, found: str | None
) -> None:
    """A renamed file, module, attribute or class is caught; URLs, headers, commands, protocol
    names and names of other libraries are not code names of ours."""
    assert problem(span) == found


def test_diagrams_give_their_paths_and_text_its_backticked_spans() -> None:
    """In a fenced diagram the file paths count; elsewhere what is in backticks."""
    diagram = "```\n plane.py ─▶ web/media/hls.py  llhls.py (pure)\n```\n`a` and `b.c`"
    assert list(mentions(diagram)) == [
        (2, "plane.py"), (2, "web/media/hls.py"), (2, "llhls.py"), (4, "a"), (4, "b.c"),
    ]  # fmt: skip
