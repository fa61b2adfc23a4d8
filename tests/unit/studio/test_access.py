"""The pure authorization policy."""

from __future__ import annotations

import pytest

from studio.access import Action, Principal, authorize, authorize_role
from studio.errors import Forbidden, Unauthenticated
from studio.roles import Role


def test_anonymous_callers_are_asked_to_sign_in() -> None:
    """No principal means 401 with what they tried to do."""
    with pytest.raises(Unauthenticated, match="sign in to create and edit sessions"):
        authorize(None, Action.MANAGE_SESSIONS, "std_a")


def test_operator_is_confined_to_their_studios() -> None:
    """An operator of studio A may broadcast there and nowhere else."""
    op = Principal(token_id="t", role=Role.OPERATOR, name="op", studio_ids=frozenset({"std_a"}))
    authorize(op, Action.BROADCAST, "std_a")
    with pytest.raises(Forbidden) as caught:
        authorize(op, Action.BROADCAST, "std_b")
    assert caught.value.message == (
        "this operator may not start and end broadcasts in studio 'std_b'"
    )


def test_event_wide_operator_covers_every_studio() -> None:
    """An operator token without studios is event-wide."""
    op = Principal(token_id="t", role=Role.OPERATOR, name="op")
    authorize(op, Action.MANAGE_SESSIONS, "anything")


def test_moderator_cannot_manage_sessions_but_can_moderate() -> None:
    """Moderators keep order; they do not run the programme."""
    mod = Principal(token_id="t", role=Role.MODERATOR, name="m", studio_ids=frozenset({"std_a"}))
    authorize(mod, Action.MODERATE, "std_a")
    with pytest.raises(Forbidden, match="the moderator role may not create and edit sessions"):
        authorize(mod, Action.MANAGE_SESSIONS, "std_a")
    with pytest.raises(Forbidden):
        authorize(mod, Action.MODERATE, "std_b")


@pytest.mark.parametrize("action", list(Action))
def test_admin_may_do_everything_everywhere(action: Action) -> None:
    """The admin role passes every check in every studio."""
    admin = Principal(token_id="t", role=Role.ADMIN, name="a", studio_ids=frozenset({"x"}))
    authorize(admin, action, "some_other_studio")


def test_authorize_role_names_the_roles_a_route_takes() -> None:
    """The coarse route check refuses anonymous and wrong-role callers, naming the roles."""
    roles = frozenset({Role.ADMIN, Role.OPERATOR})
    with pytest.raises(Unauthenticated, match=r"^sign in as admin or operator to do this$"):
        authorize_role(None, roles)
    moderator = Principal(token_id="t", role=Role.MODERATOR, name="m")
    with pytest.raises(
        Forbidden, match=r"^the moderator role may not do this \(it takes admin or operator\)$"
    ):
        authorize_role(moderator, roles)
    operator = Principal(token_id="t", role=Role.OPERATOR, name="o")
    assert authorize_role(operator, roles) is operator
    staff = roles | {Role.MODERATOR}
    with pytest.raises(Unauthenticated, match=r"^sign in as admin, moderator or operator "):
        authorize_role(None, staff)
