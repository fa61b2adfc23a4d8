"""The programme service's use cases beyond the schedule: listeners, sign-ins, first start,
imports, and the access checks of staff views, on a real store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from studio.access import Principal
from studio.errors import Forbidden, Unauthenticated
from studio.models import AuditEntry, Session, TokenInput
from studio.program_io import ImportResult, ProgramDocument, ProgramSession
from studio.roles import Role
from studio.secrets import no_stream_key
from studio.service import Programme
from studio.states import SessionState
from tests.support.harness import T0, settings_for
from tests.support.programme import ADMIN, clock, schedule


async def test_changes_from_elsewhere_reach_all_but_the_local_only_listeners(
    programme: Programme,
) -> None:
    """A change re-read after another node made it skips listeners that announce changes."""
    heard: list[tuple[str, SessionState]] = []

    async def everywhere(session: Session) -> None:
        heard.append(("everywhere", session.state))

    async def announce(session: Session) -> None:
        heard.append(("announce", session.state))

    async def broken(session: Session) -> None:
        raise RuntimeError("a listener that fails")

    programme.on_session_change(broken)
    programme.on_session_change(announce, local_only=True)
    programme.on_session_change(everywhere)
    session_id = await schedule(programme)
    assert heard == [("announce", SessionState.SCHEDULED), ("everywhere", SessionState.SCHEDULED)]
    heard.clear()
    await programme.changed_elsewhere(await programme.get_session(session_id))
    assert heard == [("everywhere", SessionState.SCHEDULED)]


async def test_a_sign_in_lasts_its_lifetime_and_ends_on_sign_out(programme: Programme) -> None:
    """A token's secret buys a cookie that stands for it until it expires or signs out."""
    token, secret = await programme.issue_token(TokenInput(role=Role.OPERATOR, name="op"))
    with pytest.raises(Unauthenticated, match=r"^the token is not valid \(mistyped or revoked\)$"):
        await programme.sign_in("tgt_wrong")
    signed_in = await programme.sign_in(secret)
    assert (signed_in.token, signed_in.lifetime) == (token, timedelta(hours=12))
    who = await programme.principal_for_sign_in(signed_in.cookie)
    assert who is not None
    assert (who.token_id, who.role) == (token.id, Role.OPERATOR)
    clock(programme).advance(hours=12)
    assert await programme.principal_for_sign_in(signed_in.cookie) is None
    again = await programme.sign_in(secret)
    await programme.sign_out(again.cookie)
    assert await programme.principal_for_sign_in(again.cookie) is None


async def test_first_start_work_is_done_once_per_store(programme: Programme) -> None:
    """One admin token, one signing key and one demo load, however often a node starts."""
    assert await programme.signing_key() == await programme.signing_key()
    secret = await programme.bootstrap_admin()
    assert secret is not None
    assert await programme.principal_for_secret(secret) is not None
    assert await programme.bootstrap_admin() is None
    await programme.load_demo_once()  # the test settings ask for no demo
    assert await programme.list_studios() == []
    with_demo = settings_for(programme.settings.store.url, TORGET_DEMO_LOAD_ON_FIRST_START="true")
    demo = Programme(programme.store, with_demo, programme.clock)
    await demo.load_demo_once()
    await demo.load_demo_once()
    sessions = await demo.list_sessions()
    assert len(sessions) == 30
    assert sessions[0].starts_at == clock(programme).now().replace(minute=0, second=0)


async def test_imported_sessions_open_with_no_key_until_one_is_rotated(
    programme: Programme,
) -> None:
    """An import makes no stream key; the operator's rotation makes the one that works."""
    doc = ProgramDocument(
        sessions=[
            ProgramSession(
                studio="Hall", title="Talk", starts_at=T0, ends_at=T0 + timedelta(hours=1)
            )
        ]
    )
    assert await programme.import_program(ADMIN, doc) == ImportResult(1, 1, 0)
    (session,) = await programme.list_sessions()
    assert await programme.session_for_stream_key(no_stream_key(session.id)) is None
    key = await programme.rotate_stream_key(ADMIN, session.id)
    assert await programme.session_for_stream_key(key) == await programme.get_session(session.id)


async def test_staff_views_of_a_session_check_the_callers_studio(programme: Programme) -> None:
    """Ingest, health, the audit log and the report belong to staff of the session's studio."""
    session = await programme.get_session(await schedule(programme))
    studio_id = session.studio_id
    elsewhere = Principal(
        token_id="t2", role=Role.OPERATOR, name="op", studio_ids=frozenset({"std_x"})
    )
    here = Principal(
        token_id="t3", role=Role.OPERATOR, name="op", studio_ids=frozenset({studio_id})
    )
    moderator = Principal(
        token_id="t4", role=Role.MODERATOR, name="mod", studio_ids=frozenset({studio_id})
    )
    for check in (programme.check_ingest_access, programme.check_health_access):
        with pytest.raises(Forbidden):
            check(elsewhere, session)
    with pytest.raises(Forbidden):
        await programme.report(elsewhere, session)
    programme.check_ingest_access(here, session)
    programme.check_health_access(moderator, session)
    assert (await programme.report(here, session)).session_id == session.id
    assert await programme.audit(moderator, session) == []
    entry = AuditEntry(room=session.id, at=T0, actor_id="t4", actor_name="mod", action="mute",
                       target="vwr_1", detail="{}")  # fmt: skip
    await programme.record_audit(entry)
    assert await programme.audit(moderator, session) == [entry]
    with pytest.raises(Unauthenticated, match=r"^sign in to moderate chat and Q&A$"):
        await programme.audit(None, session)
    with pytest.raises(Forbidden):
        programme.check_import_access(here)
    programme.check_import_access(ADMIN)
