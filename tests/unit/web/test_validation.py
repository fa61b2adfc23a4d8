"""Request bodies decoded into structs, and validation errors explained in plain words."""

from __future__ import annotations

import pytest

from studio.errors import InvalidInput
from studio.models import ExtendInput, SessionInput, TokenInput
from web.errors import BadRequest
from web.validation import decode

OK = (
    b'"studio_id":"std_a","title":"Opening","starts_at":"2026-05-20T09:00:00+02:00",'
    b'"ends_at":"2026-05-20T09:45:00+02:00"'
)


def body(extra: bytes = b"") -> bytes:
    """A valid session body with ``extra`` fields appended."""
    return b"{" + OK + extra + b"}"


@pytest.mark.parametrize(
    ("raw", "field", "problem"),
    [
        (b'{"studio_id":1}', "studio_id", "must be a string, not an integer"),
        (body(b',"foo":1'), "foo", "is not a known field"),
        (b'{"title":"x"}', "studio_id", "is required"),
        (body(b',"title":"' + b"x" * 201 + b'"'), "title", "must be at most 200 characters"),
        (body(b',"title":""'), "title", "must not be empty"),
        (body(b',"speakers":["a",""]'), "speakers[1]", "must not be empty"),
        (body(b',"auto_start":"yes"'), "auto_start", "must be true or false, not a string"),
        (body(b',"language":"EN!"'), "language", "must be a language tag like sv, fi, nb or en-GB"),
        (
            body(b',"starts_at":"2026-05-20T09:00:00"'),
            "starts_at",
            "must include a UTC offset, like 2026-05-20T09:00:00+02:00 or ...Z",
        ),
        (
            body(b',"ends_at":"tomorrow"'),
            "ends_at",
            "must be an ISO 8601 date-time, like 2026-05-20T09:00:00+02:00",
        ),
        (b"[1]", "", "the body must be an object, not a list"),
    ],
)
def test_session_body_errors_name_field_and_problem(raw: bytes, field: str, problem: str) -> None:
    """Each kind of bad session body is explained with its field and a plain sentence."""
    with pytest.raises(InvalidInput) as caught:
        decode(raw, SessionInput)
    assert (caught.value.field, caught.value.problem) == (field, problem)


def test_enum_and_range_errors() -> None:
    """Unknown roles and out-of-range numbers are named."""
    with pytest.raises(InvalidInput) as caught:
        decode(b'{"role":"boss","name":"x"}', TokenInput)
    assert caught.value.message == "role: 'boss' is not one of the allowed values"
    with pytest.raises(InvalidInput) as caught:
        decode(b'{"minutes":0}', ExtendInput)
    assert caught.value.message == "minutes: must be at least 1"


@pytest.mark.parametrize("raw", [b"{bad", b"", b"   "])
def test_unreadable_bodies_are_bad_requests(raw: bytes) -> None:
    """Malformed or empty JSON is a 400, not a validation error."""
    with pytest.raises(BadRequest):
        decode(raw, SessionInput)


def test_valid_body_decodes_to_aware_times() -> None:
    """A good body gives timezone-aware datetimes."""
    data = decode(body(), SessionInput)
    assert data.starts_at.utcoffset() is not None
    assert data.title == "Opening"
