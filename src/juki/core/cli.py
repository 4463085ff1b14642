"""`juki id validate|complete`: identifiers and their check digits."""

from __future__ import annotations

import argparse

from juki.core.console import EXIT_FAILED, EXIT_OK, Subparsers
from juki.core.errors import RuleViolation
from juki.core.identifiers import IdentifierKind, complete_identifier, parse_identifier
from juki.core.settings import Settings


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    kinds = [k.value for k in IdentifierKind]
    id_ = sub.add_parser(name, help="validate or complete identifiers (check digits)")
    id_sub = id_.add_subparsers(dest="id_command", required=True)
    p = id_sub.add_parser("validate", help="check an identifier; exit 0 and print 'valid'")
    p.add_argument("kind", choices=kinds)
    p.add_argument("value")
    p.set_defaults(handler=cmd_validate)
    p = id_sub.add_parser("complete", help="append the check digit to a body")
    p.add_argument("kind", choices=kinds)
    p.add_argument("body")
    p.set_defaults(handler=cmd_complete)


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    try:
        parse_identifier(IdentifierKind(args.kind), args.value)
    except RuleViolation as exc:
        print(f"invalid {args.kind}: {exc.message_en} [{exc.rule}]")
        return EXIT_FAILED
    print("valid")
    return EXIT_OK


def cmd_complete(args: argparse.Namespace, settings: Settings) -> int:
    try:
        print(complete_identifier(IdentifierKind(args.kind), args.body))
    except RuleViolation as exc:
        print(f"invalid {args.kind} body: {exc.message_en} [{exc.rule}]")
        return EXIT_FAILED
    return EXIT_OK
