"""Explain msgspec validation failures in plain words: the field and the problem. Pure."""

from __future__ import annotations

import re

import msgspec

_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
    "array": "a list",
    "object": "an object",
    "datetime": "an ISO 8601 date-time",
}

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Expected `str` of length <= (\d+)"), "must be at most {0} characters"),
    (re.compile(r"Expected `str` of length >= 1"), "must not be empty"),
    (re.compile(r"Expected `str` of length >= (\d+)"), "must be at least {0} characters"),
    (re.compile(r"Expected `array` of length <= (\d+)"), "must have at most {0} entries"),
    (re.compile(r"Expected `int` >= (-?\d+)"), "must be at least {0}"),
    (re.compile(r"Expected `int` <= (-?\d+)"), "must be at most {0}"),
    (
        re.compile(r"Expected `str` matching regex '\^\[a-z\]\{2,3\}"),
        "must be a language tag like sv, fi, nb or en-GB",
    ),
    (
        re.compile(r"Expected `str` matching regex '\^\[\^\\\\u0000"),
        "must not be blank or hold control characters",
    ),
    (re.compile(r"Expected `str` matching regex"), "has an invalid format"),
    (
        re.compile(r"Expected `datetime` with a timezone component"),
        "must include a UTC offset, like 2026-05-20T09:00:00+02:00 or ...Z",
    ),
    (
        re.compile(r"Invalid RFC3339 encoded datetime"),
        "must be an ISO 8601 date-time, like 2026-05-20T09:00:00+02:00",
    ),
    (re.compile(r"Invalid enum value '(.*)'"), "{0!r} is not one of the allowed values"),
    (re.compile(r"Invalid value '(.*)'"), "{0!r} is not one of the allowed values"),
]

_MISSING = re.compile(r"Object missing required field `([^`]+)`")
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]+)`")
_EXPECTED = re.compile(r"Expected `([^`]+)`, got `([^`]+)`")


def _type_name(name: str) -> str:
    names = [_TYPE_NAMES.get(part.strip(), part.strip()) for part in name.split("|")]
    return " or ".join(n for n in names if n != "null") or "null"


def explain(error: msgspec.ValidationError) -> tuple[str, str]:
    """Turn msgspec's message into (field path, problem in plain English)."""
    text = str(error)
    message, _, where = text.partition(" - at `$")
    field = where.rstrip("`").lstrip(".")
    if match := _MISSING.fullmatch(message):
        return _join(field, match[1]), "is required"
    if match := _UNKNOWN.fullmatch(message):
        return _join(field, match[1]), "is not a known field"
    if match := _EXPECTED.fullmatch(message):
        expected, got = match[1], match[2]
        if not field:
            return "", f"the body must be {_type_name(expected)}, not {_type_name(got)}"
        return field, f"must be {_type_name(expected)}, not {_type_name(got)}"
    for pattern, template in _RULES:
        if match := pattern.match(message):
            return field, template.format(*match.groups())
    return field, message.replace("`", "")


def _join(parent: str, child: str) -> str:
    return f"{parent}.{child}" if parent else child
