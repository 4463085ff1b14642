"""The transparency report (issue 14, point 4) on the in-process kiosk world (built once for the
module): after kiosk issuances, agency provisions and a 離脱 decision, its numbers are the
records' numbers (compared with direct queries), the kiosk path shows each hop's encryption and
what its receiver keeps for how long, and every node logged the reading. The command itself runs
on a network directory made by `juki network init` (HTML and PDF)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

import juki.governance.topology
from juki.cli import main
from juki.core.errors import PermissionDeniedError
from juki.governance.ledgers import commands as ledger
from juki.governance.ledgers.services import incidents
from juki.governance.ledgers.store import SqlLedgerUnitOfWork, open_incidents
from juki.nodes.disconnection import decide_disconnection, decisions_in, end_disconnection
from juki.nodes.oplog_check import check_connection
from juki.nodes.provide import SqlProvideUnitOfWork, provide_batch
from juki.nodes.provision_register import shipped_register
from juki.nodes.tables import kiosk_issuances
from juki.nodes.transparency.collect import NodeSource, compile_report, topology_section
from juki.nodes.transparency.hops import SERVICE_JA, Service
from juki.nodes.transparency.model import TransparencyReport
from juki.nodes.transparency.render import render_html
from juki.provision import services
from juki.provision.commands import AddAgency, LoadTasks
from juki.provision.register_file import parse_register
from juki.provision.requests import parse_lines
from juki.provision.tables import permitted_tasks, provision_records
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.tables import oplog
from support.kiosk_world import INAGI, PIN, World, kiosk_world

NATIONAL_OPERATOR = Actor("nat-1", Role.NATIONAL_OPERATOR, "console")
MANAGER = Actor("ops-1", Role.OPERATIONS_MANAGER, "console")
AUDITOR = Actor("aud-1", Role.AUDITOR, "console")
NAGANO = "202011"
NENKIN, ONKYU = "別表第一 の 九十一", "別表第一 の 一"
SAFE = Path(juki.governance.topology.__file__).parent / "examples" / "safe.yaml"


@dataclass
class Built:
    world: World
    report: TransparencyReport
    html: str
    fees: int


def _provide(world: World) -> None:
    national = world.net.national
    uow = SqlProvideUnitOfWork(national.engine, clock=world.clock)
    register = parse_register(shipped_register())
    for i, entry in enumerate(register.agencies):
        services.add_agency(
            uow, NATIONAL_OPERATOR, AddAgency(entry.agency_id, entry.name, entry.kind, f"{i:064x}")
        )
    services.load_tasks(uow, NATIONAL_OPERATOR, LoadTasks(register.tasks))
    codes = [p.resident_code for p in world.people.values()]
    good, _ = parse_lines([f'{{"resident_code": "{c}"}}' for c in codes])
    provide_batch(national.engine, "soumu-onkyu", ONKYU, "恩給の支給", good, clock=world.clock)
    provide_batch(national.engine, "nenkin", NENKIN, "年金給付", good[:1], clock=world.clock)
    provide_batch(national.engine, "nenkin", ONKYU, "年金給付", good[:2], clock=world.clock)


def _incidents(world: World) -> None:
    """稲城市 reports a failure and takes its first step; a virus there is followed to its close."""
    uow = SqlLedgerUnitOfWork(world.net.municipality(INAGI).engine, clock=world.clock)
    now = world.clock.now()
    failure = incidents.open_incident(uow, MANAGER, ledger.OpenIncident("failure", "CS停止", now))
    first = failure.next_step
    assert first is not None
    incidents.record_incident_step(
        uow, MANAGER, ledger.RecordIncidentStep(failure.incident_id, first.code, "切替済み")
    )
    virus = incidents.open_incident(uow, MANAGER, ledger.OpenIncident("virus", "端末感染", now))
    for step in virus.open_steps:
        incidents.record_incident_step(
            uow, MANAGER, ledger.RecordIncidentStep(virus.incident_id, step.code, "実施")
        )
    incidents.close_incident(uow, MANAGER, ledger.CloseIncident(virus.incident_id, "駆除完了"))


def _issue(world: World) -> int:
    fees = 0
    for key, copies in (("A", 2), ("B", 1)):
        session = world.session()
        session.authenticate(world.cards[key], PIN)
        session.choose(INAGI, "residence", copies=copies)
        result = session.request()
        assert result.outcome == "issued"
        fees += result.fee_yen
        session.finish()
    return fees


def _sources(world: World) -> list[NodeSource]:
    directory = world.net.national.directory()
    return [
        NodeSource(n.node_id, n.kind, directory.require(n.node_id).name, n.engine)
        for n in world.net.nodes.values()
    ]


def _compile(world: World, by: Actor) -> TransparencyReport:
    checks = []
    for node in world.net.nodes.values():
        with node.engine.connect() as conn:
            checks.append(check_connection(conn, node.node_id))
    return compile_report(
        _sources(world),
        by,
        checks=checks,
        topology=topology_section(SAFE),
        clock=world.clock,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    with kiosk_world(tmp_path_factory.mktemp("transparency")) as world:
        fees = _issue(world)
        _provide(world)
        inagi, nagano = world.net.municipality(INAGI), world.net.nodes[NAGANO]
        decide_disconnection(inagi, MANAGER, decided_by="稲城市長", reason="庁内LANの点検")
        end_disconnection(inagi, MANAGER, note="点検完了")
        decide_disconnection(nagano, MANAGER, decided_by="長野市長", reason="県審議会の報告")
        _incidents(world)
        world.net.run_until_quiet()
        report = _compile(world, AUDITOR)
        yield Built(world, report, render_html(report), fees)


def test_the_kiosk_counts_are_the_relays_records(built: Built) -> None:
    ki = kiosk_issuances.c
    with built.world.net.national.engine.connect() as conn:
        direct = conn.execute(
            sa.select(ki.lg_code, ki.kind, ki.status, sa.func.count(), sa.func.sum(ki.copies),
                      sa.func.sum(ki.fee_yen))
            .group_by(ki.lg_code, ki.kind, ki.status)
        ).all()  # fmt: skip
    assert [(k.lg_code, k.kind, k.status, k.issuances, k.copies, k.fee_yen)
            for k in built.report.kiosk] == [tuple(r) for r in direct]  # fmt: skip
    [row] = built.report.kiosk
    assert (row.issuances, row.copies, row.fee_yen) == (2, 3, built.fees)
    assert f'<td class="n">{built.fees}</td>' in built.html


def test_the_provision_counts_are_the_provision_records(built: Built) -> None:
    pr = provision_records.c
    with built.world.net.national.engine.connect() as conn:
        direct = conn.execute(
            sa.select(pr.agency_id, pr.task_ref, pr.outcome, sa.func.count())
            .group_by(pr.agency_id, pr.task_ref, pr.outcome)
            .order_by(pr.agency_id, pr.task_ref, pr.outcome)
        ).all()
        in_force = conn.execute(
            sa.select(sa.func.count(sa.distinct(permitted_tasks.c.ref))).where(
                permitted_tasks.c.withdrawn_on.is_(None)
            )
        ).scalar_one()
    rows = [(p.agency_id, p.task_ref, p.outcome, p.count) for p in built.report.provisions]
    assert rows == [tuple(r) for r in direct]
    assert {p.outcome for p in built.report.provisions} >= {"provided", "refused"}
    assert {p.node_id for p in built.report.provisions} == {"national"}
    assert sum(t.in_force for t in built.report.tasks) == in_force > 0
    assert built.report.agencies > 0


def test_storage_decisions_and_verdicts_are_the_nodes_own(built: Built) -> None:
    for node in built.world.net.nodes.values():
        stored = next(s for s in built.report.storage if s.node_id == node.node_id)
        with node.engine.connect() as conn:
            for t in ("identity_copies", "kiosk_issuances", "provision_records"):
                n = conn.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar_one()
                assert {c.table: c.rows for c in stored.tables}.get(t, 0) == n, (node.node_id, t)
            assert [d for d in built.report.decisions if d.node_id == node.node_id] == (
                decisions_in(conn)
            )
            # the reading is in every node's oplog, as the auditor's
            last = conn.execute(sa.select(oplog).order_by(oplog.c.seq.desc()).limit(1)).one()
            assert (last.action, last.actor_id, last.outcome) == (
                "compile_transparency_report",
                "aud-1",
                "ok",
            )
    assert built.report.oplog_holds and len(built.report.oplog) == len(built.world.net.nodes)
    assert built.report.topology.given and built.report.topology.high == 0
    with built.world.net.municipality(INAGI).engine.connect() as conn:
        still_open = open_incidents(conn)
    assert [(i.node_id, i.incident_id, i.title) for i in built.report.incidents] == [
        (INAGI, i.incident_id, i.title) for i in still_open
    ]
    assert [i.title for i in still_open] == ["CS停止"]  # the closed one is not listed
    assert built.report.incidents[0].next_step in built.html and "端末感染" not in built.html
    assert "長野市長" in built.html and "県審議会の報告" in built.html and "離脱中" in built.html


def test_the_kiosk_path_shows_each_hops_encryption_and_retention(built: Built) -> None:
    hops = built.report.hops[Service.KIOSK]
    assert [h.step for h in hops] == [1, 2, 3, 4]
    for hop in hops:
        assert "TLS 1.2" in hop.channel_ja
        assert hop.seal_ja is not None and "HPKE" in hop.seal_ja
        assert hop.kept  # what the receiver keeps, and for how long
        assert all(k.retention_ja for k in hop.kept)
    relay_keeps = {k.what: k for k in hops[2].kept}
    assert set(relay_keeps["kiosk_issuances"].columns) == {c.name for c in kiosk_issuances.columns}
    assert hops[0].kept[0].retention_ja == "メモリのみ: 最長 2分、1回使えば無効"
    section = built.html[built.html.index(SERVICE_JA[Service.KIOSK]) :]
    for text in ("HPKE", "ECDSA secp256r1", "■sealed_request", "■sealed_answer",
                 "kiosk_issuances", "メモリのみ"):  # fmt: skip
        assert text in section, text


def test_who_may_not_compile_it_is_refused_and_logged(built: Built) -> None:
    clerk = Actor("clerk-9", Role.COUNTER_CLERK, "T1")
    with pytest.raises(PermissionDeniedError, match="compile_transparency_report"):
        _compile(built.world, clerk)
    national = built.world.net.national
    with national.engine.connect() as conn:
        last = conn.execute(sa.select(oplog).order_by(oplog.c.seq.desc()).limit(1)).one()
    assert (last.actor_id, last.outcome) == ("clerk-9", "denied")


def test_the_command_writes_html_and_pdf(tmp_path: Path) -> None:
    from juki.nodes.netinit import init_network

    port = random.Random(datetime.now().microsecond).randrange(20000, 40000)
    init_network(tmp_path / "net", layout="small", base_port=port)
    out, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    argv = ["report", "transparency", "--dir", str(tmp_path / "net"), "--out", str(out)]
    assert main([*argv, "--pdf", str(pdf)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "構成ファイルの指定なし" in html and "未解決のインシデントなし" in html
    assert "HPKE" in html and "全ノードで改ざんは検出されませんでした" in html
    assert pdf.read_bytes().startswith(b"%PDF")
    assert out.stat().st_mode & 0o077 == 0  # owner only, as every --out file
