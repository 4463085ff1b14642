"""Who runs a command on the console: the operator whose token is given, or nobody.

Every command that reads or changes personal data takes the token from `--token` (alias
`--operator-token`) or `JUKI_TOKEN` and refuses without one, before it opens anything: there is
no implicit clerk. The token is one `juki operator token` issued to a named operator for a
stated purpose, with an expiry; the operator's role decides what the command may do, and the
oplog names the operator. Two kinds of command act otherwise, each said in its oplog entries:
`juki seed` acts as the system (`Actor.system("seed")`), and `juki operator …` without a token
acts as the server console's アクセス管理責任者 (`Actor.console`), which is how the first
operator is registered.
"""

from __future__ import annotations

import argparse
from typing import Final

import sqlalchemy as sa

from juki.core.console import ConsoleError
from juki.core.settings import Settings
from juki.security.actors import Actor
from juki.security.operators import TokenRefused, check_token
from juki.security.uow import SqlUnitOfWork

MISSING: Final = (
    "token: this command reads or changes personal data and needs an operator's credential; "
    "give --token or set JUKI_TOKEN (issued by `juki operator token --id ID --purpose TEXT`)"
)


def add_token_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--token",
        "--operator-token",
        dest="token",
        default=None,
        help="the operator's token (default: $JUKI_TOKEN); required",
    )


def given_token(args: argparse.Namespace, settings: Settings) -> str | None:
    token: str | None = getattr(args, "token", None) or settings.operator_token
    return token


def require_token(args: argparse.Namespace, settings: Settings) -> str:
    """The token, or refuse before anything is opened."""
    token = given_token(args, settings)
    if not token:
        raise ConsoleError(MISSING)
    return token


def operator_for(
    engine: sa.Engine, args: argparse.Namespace, settings: Settings, terminal: str = "console"
) -> Actor:
    """The operator the token stands for; a missing or refused token is a one-line error."""
    token = require_token(args, settings)
    try:
        return check_token(SqlUnitOfWork(engine), token, terminal)
    except TokenRefused as refused:
        raise ConsoleError(f"token: {refused.message_en}") from None
