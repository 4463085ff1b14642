"""`juki audit network FILE.yaml [--json] [--diagram OUT.svg]`: the topology audit of a file.

Exit 0 when there is no high-severity finding, 1 when there is one or when the file cannot be
audited (its error names the file, the place in the document and the rule, in English and
Japanese). It reads a file and writes at most the diagram: it touches no node and no
database, so it needs no operator token and writes no oplog entry.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from juki.core.console import EXIT_FAILED, EXIT_OK, ConsoleError, Subparsers
from juki.core.settings import Settings
from juki.governance.topology.audit import audit
from juki.governance.topology.diagram import render_svg
from juki.governance.topology.findings import AuditResult, Severity
from juki.governance.topology.loader import load_topology
from juki.governance.topology.parse import TopologyError
from juki.governance.topology.remedies import CASES


def register(sub: Subparsers, name: str, settings: Settings) -> None:
    p = sub.add_parser(name, help="audits: the network topology (seed 000 §2.4)")
    audit_sub = p.add_subparsers(dest="audit_command", required=True)
    net = audit_sub.add_parser(
        "network",
        help="audit a network described in YAML (docs/topology.md); exit 1 on a high finding",
    )
    net.add_argument("file", type=Path, help="the topology YAML file")
    net.add_argument("--json", action="store_true", help="print the findings as JSON")
    net.add_argument("--diagram", type=Path, metavar="OUT.svg", help="write the diagram here")
    net.set_defaults(handler=cmd_network)


def _text_report(result: AuditResult) -> list[str]:
    lines = [f"ネットワーク構成の監査 / network audit: {result.municipality or '-'}"]
    if not result.findings:
        lines.append("  指摘事項なし / no findings")
    for i, f in enumerate(result.findings, 1):
        case = f"事例{f.case} / case {f.case}" if f.case is not None else "-"
        lines.append(f"{i}. [{f.severity.value}] {case}")
        if f.case is not None:
            lines.append(f"   {CASES[f.case].ja}")
        lines.append(f"   {f.summary.ja}")
        lines.append(f"   {f.summary.en}")
        lines.append(f"   経路 / path: {' → '.join(f.path)}")
        lines.append(f"   対策: {f.remedy.ja}")
        lines.append(f"   remedy: {f.remedy.en}")
    counts = {s: sum(f.severity == s for f in result.findings) for s in Severity}
    lines.append(" / ".join(f"{s.value}: {n}" for s, n in counts.items()))
    return lines


def cmd_network(args: argparse.Namespace, settings: Settings) -> int:
    try:
        topology = load_topology(args.file)
    except TopologyError as exc:
        print(str(exc), file=sys.stderr)
        print(exc.in_japanese(), file=sys.stderr)
        return EXIT_FAILED
    result = audit(topology)
    if args.diagram is not None:
        try:
            args.diagram.write_text(render_svg(topology, result), encoding="utf-8")
        except OSError as exc:
            raise ConsoleError(
                f"{args.diagram}: cannot write the diagram: {exc.strerror}"
            ) from None
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(_text_report(result)))
    return EXIT_FAILED if result.has_high else EXIT_OK
