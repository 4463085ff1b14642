"""`juki report transparency --dir DIR --out OUT.html [--pdf OUT.pdf] [--topology FILE.yaml]`:
the transparency report for a privacy council (docs/transparency.md).

Like `juki oplog verify --dir`, it is the network host's own reading: whoever holds the network
directory holds every node's database and key already, and the report shows counts, verdicts
and the register, never a person. Every node's reading is in that node's oplog as the console's
運用管理者 (`compile_transparency_report`). The oplog is verified first, so the report's own
entries are not part of what it verified. Exit 0 when the oplog holds everywhere and the
topology (if given) has no high finding, 1 otherwise; the files are written either way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from juki.core.clock import SystemClock
from juki.core.console import EXIT_FAILED, EXIT_OK, ConsoleError, Subparsers
from juki.core.files import replace_private
from juki.core.settings import Settings
from juki.nodes.config import ConfigError, NetworkFiles
from juki.security.actors import Actor
from juki.security.permissions import Role


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    top = sub.add_parser(name, help="reports for councils and auditors")
    reports = top.add_subparsers(dest="report_command", required=True)
    p = reports.add_parser(
        "transparency",
        help="透明性報告書: data flow per hop, storage, provision, oplog, topology, 離脱",
    )
    p.add_argument("--dir", required=True, type=Path, help="the network directory")
    p.add_argument("--out", required=True, type=Path, metavar="OUT.html")
    p.add_argument("--pdf", type=Path, metavar="OUT.pdf", help="also write the PDF here")
    p.add_argument("--topology", type=Path, metavar="FILE.yaml", help="the municipality's layout")
    p.set_defaults(handler=cmd_transparency)


def cmd_transparency(args: argparse.Namespace, settings: Settings) -> int:
    from juki.network.directory import NodeKind
    from juki.nodes.oplog_check import verify_network
    from juki.nodes.transparency.collect import NodeSource, compile_report, topology_section
    from juki.nodes.transparency.render import render_html, render_pdf
    from juki.storage.engine import open_existing

    try:
        configs = NetworkFiles(args.dir.resolve()).configs()
    except (ConfigError, OSError) as exc:
        raise ConsoleError(f"dir: not a network directory: {exc}") from None
    if not configs:
        raise ConsoleError(f"dir: no nodes in {args.dir} / ノードがありません")
    checks = verify_network(args.dir.resolve())
    sources = [
        NodeSource(c.node_id, NodeKind(c.kind), c.name, open_existing(c.db)) for c in configs
    ]
    try:
        report = compile_report(
            sources,
            Actor.console(Role.OPERATIONS_MANAGER),
            checks=checks,
            topology=topology_section(args.topology),
            clock=SystemClock(),
        )
    finally:
        for source in sources:
            source.engine.dispose()
    html = render_html(report)
    _write(args.out, html.encode("utf-8"))
    if args.pdf is not None:
        _write(args.pdf, render_pdf(html))
    print(
        f"透明性報告書を作成しました (written): {args.out}" + (f", {args.pdf}" if args.pdf else "")
    )
    problems = [] if report.oplog_holds else ["操作履歴の検証で異常 (oplog broken)"]
    if report.topology.high:
        problems.append(f"構成の監査で重大な指摘 {report.topology.high} 件 (high findings)")
    for problem in problems:
        print(f"警告: {problem}", file=sys.stderr)
    return EXIT_FAILED if problems else EXIT_OK


def _write(path: Path, data: bytes) -> None:
    try:
        replace_private(path, data)
    except OSError as exc:
        raise ConsoleError(f"{path}: cannot write: {exc.strerror}") from None
