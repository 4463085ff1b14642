"""`juki provide` (an agency's lookups, over the network) and `juki provision stats`.

    juki provide --dir DIR --agency ID --task TASK --purpose TEXT
                 (--resident-code C [--as-of YYYY-MM-DD] | --query FILE.jsonl)
                 [--items name,address] [--node NODE_ID] [--out FILE.jsonl]
    juki provision stats --dir DIR --year YYYY [--node NODE_ID] [--json] [--token T]

`provide` is the agency's side: it connects to the node (national by default, or a prefecture
for its own municipalities' residents) over mutual TLS with the agency's own key and
certificate — `agencies/ID.key` and `ID.pem` of the network directory, as `juki agency add`
wrote them, or `--credential DIR` — and never opens a node's database. A file is sent in parts
of 10,000 lines, with progress on stderr; the answers (one JSON line per line of the file: an
answer, or an error naming the line and the rule) go to `--out` or stdout. Exit status 0 when
the node answered, 1 when it refused the request as a whole (the reason on stderr).

`provision stats` runs on the node's console with an operator's token (national or prefecture
operator, or auditor: `view_provision_stats`), and prints the year's provisions by agency and
task (提供状況の公表); the reading is in the node's oplog.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from juki.core.console import EXIT_FAILED, EXIT_OK, ConsoleError, Subparsers
from juki.core.errors import PermissionDeniedError, RuleViolation
from juki.core.settings import Settings
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.security.actors import Actor
from juki.security.credentials import add_token_arg, operator_for, require_token

if TYPE_CHECKING:
    import httpx

    from juki.nodes.node import Node

PART: Final = 10_000  # juki.provision.requests.MAX_BATCH, without importing the domain here
READ_TIMEOUT: Final = 300.0
OUTCOME_JA: Final = {"provided": "提供", "not_found": "該当なし", "refused": "拒否"}


def network(args: argparse.Namespace) -> NetworkFiles:
    files = NetworkFiles(Path(args.dir).resolve())
    if not files.exists():
        raise ConsoleError(f"dir: no network here ({args.dir}) / ネットワークの設定がありません")
    return files


def node_config(files: NetworkFiles, node_id: str | None) -> NodeConfig:
    """The node asked for, national by default; provision is at national and the prefectures."""
    for config in files.configs():
        if (node_id is None and config.kind.value == "national") or config.node_id == node_id:
            if config.kind.value not in ("national", "prefecture"):
                raise ConsoleError(
                    f"node: {config.node_id} is a {config.kind.value}; provision is at the "
                    "national node and the prefectures / 提供は全国サーバと都道府県サーバで行います"
                )
            return config
    raise ConsoleError(f"node: no node {node_id or 'national'} here / ノードがありません")


def run_on_node(
    args: argparse.Namespace, settings: Settings, action: Callable[[Node, Actor], int]
) -> int:
    """Bootstrap `--node` (national by default), identify the operator, run the action; a
    refusal by a rule or a permission is one line in English and Japanese."""
    from juki.nodes.bootstrap import bootstrap, close_node

    require_token(args, settings)
    node = bootstrap(node_config(network(args), getattr(args, "node", None)))
    try:
        by = operator_for(node.engine, args, settings)
        try:
            return action(node, by)
        except RuleViolation as exc:
            raise ConsoleError(f"{exc.field}: {exc.message_en} / {exc.message_ja}") from None
        except PermissionDeniedError as exc:
            raise ConsoleError(f"token: {exc.message_en} / {exc.message_ja}") from None
    finally:
        close_node(node)


# -- juki provide ---------------------------------------------------------------------------------


def _client(files: NetworkFiles, args: argparse.Namespace) -> httpx.Client:
    from juki.network.https import mtls_client

    where = Path(args.credential) if args.credential else files.agencies_dir
    key, cert = where / f"{args.agency}.key", where / f"{args.agency}.pem"
    if not key.is_file() or not cert.is_file():
        raise ConsoleError(
            f"agency: no credential {args.agency}.key/.pem in {where}"
            " / 機関の鍵と証明書がありません"
        )
    return mtls_client(cert, key, files.root_certificate, read_timeout=READ_TIMEOUT)


def _single(args: argparse.Namespace) -> list[str]:
    line: dict[str, Any] = {"resident_code": args.resident_code}
    if args.as_of:
        line["as_of"] = args.as_of
    if args.items:
        line["items"] = [i.strip() for i in args.items.split(",") if i.strip()]
    return [json.dumps(line, ensure_ascii=False)]


def _parts(args: argparse.Namespace) -> Iterator[tuple[int, list[str]]]:
    if args.resident_code is not None:
        yield 1, _single(args)
        return
    try:
        with open(args.query, encoding="utf-8", newline="") as f:
            part: list[str] = []
            first = 1
            for n, text in enumerate(f, start=1):
                part.append(text.rstrip("\r\n"))
                if len(part) == PART:
                    yield first, part
                    part, first = [], n + 1
            if part:
                yield first, part
    except (OSError, UnicodeDecodeError) as exc:
        raise ConsoleError(f"query: cannot read {args.query}: {type(exc).__name__}") from None


def _refused(response: httpx.Response) -> ConsoleError:
    try:
        data = response.json()
    except ValueError:
        data = {}
    detail = data.get("detail") if isinstance(data, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        field = ".".join(str(p) for p in first.get("loc", [])[1:]) or "request"
        return ConsoleError(f"{field}: {first.get('msg', '')} / {first.get('msg_ja', '')}")
    ja = data.get("msg_ja", "") if isinstance(data, dict) else ""
    return ConsoleError(f"node: {response.status_code} {detail or response.text[:200]} / {ja}")


def _send(
    client: httpx.Client, url: str, args: argparse.Namespace, first: int, lines: list[str]
) -> dict[str, Any]:
    body = {"task": args.task, "purpose": args.purpose, "first_line": first, "lines": lines}
    response = client.post(url, json=body)
    if response.status_code != 200:
        raise _refused(response)
    data: dict[str, Any] = response.json()
    return data


def cmd_provide(args: argparse.Namespace, settings: Settings) -> int:
    import httpx

    if args.query is not None and (args.as_of or args.items):
        raise ConsoleError(
            "query: --as-of and --items are for --resident-code; put them on each line"
            " / ファイルでは各行に as_of・items を指定してください"
        )
    files = network(args)
    config = node_config(files, args.node)
    url = config.endpoint.rstrip("/") + "/provision/v1/requests"
    out: IO[str] = sys.stdout
    total: Counter[str] = Counter()
    refusal = None
    with _client(files, args) as client:
        try:
            if args.out:
                out = open(args.out, "w", encoding="utf-8")  # noqa: SIM115 - closed below
            for first, lines in _parts(args):
                data = _send(client, url, args, first, lines)
                refusal = refusal or data.get("refusal")
                total.update(data.get("counts", {}))
                for line in data.get("lines", []):
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                if args.query is not None:
                    done = first + len(lines) - 1
                    counts = ", ".join(f"{k} {v}" for k, v in sorted(total.items()))
                    print(f"provide: {done} lines ({counts})", file=sys.stderr, flush=True)
        except httpx.HTTPError as exc:
            raise ConsoleError(
                f"node: {config.node_id} unreachable: {type(exc).__name__}"
            ) from None
        finally:
            if out is not sys.stdout:
                out.close()
    if refusal is not None:
        print(f"refused: {refusal} / 提供できません", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


# -- juki provision stats -------------------------------------------------------------------------


def _year(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a year YYYY / 年は YYYY") from None
    if not 1900 <= year <= 9999:
        raise argparse.ArgumentTypeError("a year 1900-9999 / 年は1900〜9999")
    return year


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    def action(node: Node, by: Actor) -> int:
        from juki.nodes.provide import SqlProvideUnitOfWork
        from juki.provision.provide import provision_stats

        counts = provision_stats(SqlProvideUnitOfWork(node.engine, clock=node.clock), by, args.year)
        rows = [
            {"agency_id": c.agency_id, "task": c.task_ref, "outcome": c.outcome, "count": c.count}
            for c in counts
        ]
        if args.json:
            print(
                json.dumps(
                    {"node": node.node_id, "year": args.year, "provisions": rows},
                    ensure_ascii=False,
                )
            )
            return EXIT_OK
        print(f"本人確認情報の提供状況 {args.year}年 ({node.node_id})")
        print("機関ID\t利用事務\t結果\t件数")
        for r in rows:
            outcome = OUTCOME_JA.get(str(r["outcome"]), str(r["outcome"]))
            print(f"{r['agency_id']}\t{r['task'] or '-'}\t{outcome}\t{r['count']}")
        print(f"合計\t\t\t{sum(c.count for c in counts)}")
        return EXIT_OK

    return run_on_node(args, settings, action)


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError("a date YYYY-MM-DD / 日付は YYYY-MM-DD") from None


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    if name == "provide":
        p = sub.add_parser(name, help="本人確認情報の提供: an agency's lookups, over the network")
        p.add_argument("--dir", required=True, help="the network directory")
        p.add_argument("--agency", required=True, help="the agency id its credential names")
        p.add_argument("--task", required=True, help="the 別表 row, e.g. '別表第一 の 九十一'")
        p.add_argument("--purpose", required=True, help="why (利用目的), 1-200 characters")
        which = p.add_mutually_exclusive_group(required=True)
        which.add_argument("--resident-code", help="one lookup by 住民票コード")
        which.add_argument("--query", help="a JSONL file of lookups (docs/provision.md)")
        p.add_argument("--as-of", type=_day, help="with --resident-code: as it was that day")
        p.add_argument("--items", help="with --resident-code: only these items, comma-separated")
        p.add_argument("--node", help="a prefecture's node id (default: the national node)")
        p.add_argument("--credential", help="where ID.key and ID.pem are (default: DIR/agencies)")
        p.add_argument("--out", help="write the answers here (JSONL) instead of stdout")
        p.set_defaults(handler=cmd_provide)
        return
    top = sub.add_parser(name, help="本人確認情報の提供: the yearly counts (提供状況の公表)")
    s = top.add_subparsers(dest="provision_command", required=True)
    p = s.add_parser("stats", help="provisions by agency and task in a year")
    p.add_argument("--dir", required=True, help="the network directory")
    p.add_argument("--year", required=True, type=_year)
    p.add_argument("--node", help="a prefecture's node id (default: the national node)")
    p.add_argument("--json", action="store_true")
    add_token_arg(p)
    p.set_defaults(handler=cmd_stats)
