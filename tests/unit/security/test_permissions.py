"""The authorisation table is complete and keeps roles apart."""

from __future__ import annotations

import pytest

from juki.core.errors import PermissionDeniedError
from juki.security.permissions import ROLE_PERMISSIONS, Permission, Role, authorize, is_allowed


def test_every_role_has_a_row_and_every_permission_a_holder() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    held = set().union(*ROLE_PERMISSIONS.values())
    assert held == set(Permission)


def test_clerks_cannot_act_by_authority_or_manage_operators() -> None:
    for p in (
        Permission.ENTER_BY_AUTHORITY,
        Permission.CORRECT_BY_AUTHORITY,
        Permission.REMOVE_BY_AUTHORITY,
        Permission.MANAGE_OPERATORS,
        Permission.ASSIGN_MY_NUMBER,
    ):
        assert not is_allowed(Role.COUNTER_CLERK, p)


def test_auditors_see_no_personal_data() -> None:
    assert not is_allowed(Role.AUDITOR, Permission.VIEW_RECORD)
    assert not is_allowed(Role.AUDITOR, Permission.SEARCH_RECORDS)


def test_authorize_raises_with_actor_and_action() -> None:
    with pytest.raises(PermissionDeniedError) as err:
        authorize("clerk-9", Role.COUNTER_CLERK, Permission.MANAGE_OPERATORS)
    assert "clerk-9" in str(err.value)
    assert "manage_operators" in str(err.value)
