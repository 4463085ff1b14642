"""Actors: every service call is made by someone."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from juki.security.permissions import Role


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated party: an operator at a terminal, or the node itself.

    `terminal_id` says where the action was taken; the oplog needs it to answer "from which
    terminal" (seed 001 第16, 002: operation history). `purpose` is the case or stated purpose
    the actor works under (a command-line token's purpose), written into each oplog entry; the
    report (`juki oplog report`) lists views without one. `approved_by` is set only when a
    supervisor's 本登録 applies this operator's provisional change (juki.registry.review): the
    change is the operator's, approved by that supervisor, and its history says both.
    """

    actor_id: str
    role: Role
    terminal_id: str = "-"
    purpose: str = ""
    approved_by: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(actor_id=name, role=Role.SYSTEM, terminal_id=name)

    @classmethod
    def console(cls, role: Role, terminal_id: str = "console") -> Actor:
        """Whoever runs a command on the server's console, acting in `role`."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls(actor_id=f"cli:{user}", role=role, terminal_id=terminal_id)
