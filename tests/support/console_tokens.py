"""Operators' tokens for command-line tests: every command that reads or changes personal data
needs one (`--token`), so a test registers one operator per role it runs commands as and adds
the token of the role each command needs. A test about the credential itself passes its own
`--token` (or none) and this leaves the command as it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa

from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork

REGISTRAR: Final = Actor("test-access-manager", Role.ACCESS_MANAGER, "console")
# The role the counter would send to each command.
ROLE_OF: Final = {
    ("cert", "issue"): Role.COUNTER_CLERK,
    ("cert", "spoil"): Role.COUNTER_CLERK,
    ("cert", "self-notice"): Role.COUNTER_CLERK,
    ("cert", "void"): Role.REGISTRY_SUPERVISOR,
    ("cert", "register"): Role.AUDITOR,
    ("cert", "wide-area-register"): Role.AUDITOR,
    ("cert", "fee"): Role.OPERATIONS_MANAGER,
    ("cert", "signatory"): Role.OPERATIONS_MANAGER,
    ("registry", "stats"): Role.OPERATIONS_MANAGER,
    ("registry", "support"): Role.REGISTRY_SUPERVISOR,
    ("registry", "resident-code"): Role.COUNTER_CLERK,
    ("oplog", "verify"): Role.AUDITOR,
    ("oplog", "report"): Role.AUDITOR,
    ("oplog", "export"): Role.OPERATIONS_MANAGER,
    ("oplog", "prune"): Role.OPERATIONS_MANAGER,
    ("oplog", "checkpoint"): Role.OPERATIONS_MANAGER,
}


class ConsoleTokens:
    """One operator per role in `engine`'s registry, made when first needed (on the system
    clock, as the command checks the token against it)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._tokens: dict[Role, str] = {}

    def token(self, role: Role) -> str:
        if role not in self._tokens:
            self._tokens[role] = create_operator(
                SqlUnitOfWork(self._engine),
                REGISTRAR,
                f"cli-{role.value.replace('_', '-')}",
                "端末 操作者",
                role,
                purpose="command-line tests",
            )
        return self._tokens[role]

    def argv(self, argv: Sequence[str]) -> list[str]:
        """`argv` with the token of the role its command needs, unless it names a token."""
        out = list(argv)
        if "--token" in out or "--operator-token" in out or len(out) < 2:
            return out
        role = ROLE_OF.get((out[0], out[1]))
        return [*out, "--token", self.token(role)] if role is not None else out
