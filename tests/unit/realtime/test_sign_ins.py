"""Which signed-in connections end with a revocation, a sign-out or the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from realtime.sign_ins import SignIn, SignIns
from studio.interaction.facts import SignInEnded

T0 = datetime(2026, 5, 20, 7, 0, tzinfo=UTC)


def test_a_revocation_ends_every_sign_in_of_the_token_a_sign_out_only_its_own() -> None:
    """Revoking a token ends its bearer and browser connections; signing a browser out ends
    that browser's only; an ended connection is forgotten."""
    sign_ins: SignIns[str] = SignIns()
    sign_ins.add("bearer", SignIn("tok_a"))
    sign_ins.add("browser-1", SignIn("tok_a", "hash1", T0))
    sign_ins.add("browser-2", SignIn("tok_a", "hash2", T0))
    sign_ins.add("other", SignIn("tok_b"))
    assert sign_ins.ended(SignInEnded(web_session="hash1")) == ["browser-1"]
    assert sorted(sign_ins.ended(SignInEnded(token_id="tok_a"))) == ["bearer", "browser-2"]
    assert sign_ins.ended(SignInEnded(token_id="tok_a")) == []
    assert len(sign_ins) == 1


def test_browser_sign_ins_expire_bearer_ones_do_not() -> None:
    """At its expiry a browser sign-in ends; a bearer token has none."""
    sign_ins: SignIns[str] = SignIns()
    sign_ins.add("bearer", SignIn("tok_a"))
    sign_ins.add("browser", SignIn("tok_a", "hash1", T0))
    assert sign_ins.expired(T0 - timedelta(seconds=1)) == []
    assert sign_ins.expired(T0) == ["browser"]
    assert [c for c, _ in sign_ins.items()] == ["bearer"]
