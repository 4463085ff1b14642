"""`juki kiosk store add|withdraw|list`: the register of stores (店舗) on the national node.

    juki kiosk store add      --dir DIR --store-id ID --company NAME --out DIR [--token T]
    juki kiosk store withdraw --dir DIR --store-id ID [--token T]
    juki kiosk store list     --dir DIR [--json] [--token T]

Run on the national node's console (the network directory holds its node.json and the root
key): `add` issues the store a key and a client certificate from the network root (kind
`store`, as the demo store's) and registers it; the key and certificate are written to `--out`
(owner-only), to be installed on the store's kiosks. `withdraw` ends the store's use of the
relay at once (the relay checks the register on every call). Each needs the token of a national
operator (`manage_kiosk_stores`), and each use, refused ones included, is in the national oplog.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from juki.core.console import EXIT_OK, ConsoleError, Subparsers
from juki.core.errors import PermissionDeniedError, RuleViolation
from juki.core.files import write_private
from juki.core.settings import Settings
from juki.network import pki
from juki.network.directory import NodeKind
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.security.actors import Actor
from juki.security.credentials import add_token_arg, operator_for, require_token

if TYPE_CHECKING:
    from juki.nodes.national import NationalNode

EXIT_FAILED = 1


def national_config(args: argparse.Namespace) -> NodeConfig:
    """The national node's configuration in `--dir`, or a one-line error."""
    files = NetworkFiles(Path(args.dir).resolve())
    if not files.exists():
        raise ConsoleError(f"dir: no network here ({args.dir}) / ネットワークの設定がありません")
    for config in files.configs():
        if config.kind is NodeKind.NATIONAL:
            return config
    raise ConsoleError("dir: no national node here / 全国サーバの設定がありません")


def run_on_national(
    args: argparse.Namespace,
    settings: Settings,
    action: Callable[[argparse.Namespace, NationalNode, Actor], int],
) -> int:
    """Bootstrap the national node, identify the operator, run the action; rule and
    permission refusals are one line in English and Japanese."""
    from juki.nodes.bootstrap import bootstrap, close_node
    from juki.nodes.national import NationalNode

    require_token(args, settings)
    node = bootstrap(national_config(args))
    try:
        if not isinstance(node, NationalNode):  # pragma: no cover - from_json checks the kind
            raise ConsoleError("dir: not a national node")
        by = operator_for(node.engine, args, settings)
        try:
            return action(args, node, by)
        except RuleViolation as exc:
            raise ConsoleError(f"{exc.field}: {exc.message_en} / {exc.message_ja}") from None
        except PermissionDeniedError as exc:
            raise ConsoleError(f"token: {exc.message_en} / {exc.message_ja}") from None
    finally:
        close_node(node)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    return run_on_national(args, settings, args.store_action)


def _add(args: argparse.Namespace, node: NationalNode, by: Actor) -> int:
    from juki.nodes.kiosk_stores import (
        check_store_id,
        issue_store_certificate,
        may_manage,
        register_store,
    )

    may_manage(node, by, "register_kiosk_store", f"store:{args.store_id[:32]}")
    check_store_id(args.store_id)
    out = Path(args.out)
    key_file, cert_file = out / f"{args.store_id}.key", out / f"{args.store_id}.pem"
    if key_file.exists():
        raise ConsoleError(f"out: {key_file} exists / 鍵ファイルが既にあります（上書きしません）")
    if node.root_key is None:
        raise ConsoleError("dir: the national node holds no root key / ルート鍵がありません")
    key, cert = issue_store_certificate(node.root_key, node.root, args.store_id, node)
    register_store(node, by, args.store_id, args.company, cert)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(key_file, pki.key_to_pem(key))
    cert_file.write_bytes(pki.cert_to_pem(cert))
    print(
        json.dumps({"store_id": args.store_id, "key": str(key_file), "certificate": str(cert_file)})
    )
    return EXIT_OK


def _withdraw(args: argparse.Namespace, node: NationalNode, by: Actor) -> int:
    from juki.nodes.kiosk_stores import withdraw_store

    if not withdraw_store(node, by, args.store_id):
        raise ConsoleError(
            f"store-id: no active store {args.store_id} / 利用中の店舗として登録されていません"
        )
    print(json.dumps({"store_id": args.store_id, "status": "withdrawn"}))
    return EXIT_OK


def _list(args: argparse.Namespace, node: NationalNode, by: Actor) -> int:
    from juki.nodes.kiosk_stores import list_stores

    stores = list_stores(node, by)
    if args.json:
        print(json.dumps(stores, ensure_ascii=False))
    for s in [] if args.json else stores:
        print(f"{s['store_id']}\t{s['status']}\t{s['operator_company']}")
    return EXIT_OK


def register(sub: Subparsers) -> None:
    """`store` under `juki kiosk`."""
    top = sub.add_parser("store", help="the register of stores on the national node")
    s = top.add_subparsers(dest="store_command", required=True)
    p = s.add_parser("add", help="issue a store's client certificate and register it")
    p.add_argument("--store-id", required=True, help="1-32 of A-Z, a-z, 0-9, _ and -")
    p.add_argument("--company", required=True, help="the operator company (1-100 characters)")
    p.add_argument("--out", required=True, help="where to write ID.key (0600) and ID.pem")
    p.set_defaults(store_action=_add)
    p = s.add_parser("withdraw", help="the store's kiosks may no longer use the relay")
    p.add_argument("--store-id", required=True)
    p.set_defaults(store_action=_withdraw)
    p = s.add_parser("list", help="every store, with its status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(store_action=_list)
    for action in s.choices.values():
        action.add_argument("--dir", required=True, help="the network directory (node.json files)")
        add_token_arg(action)
        action.set_defaults(handler=_run)
