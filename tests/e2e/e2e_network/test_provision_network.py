"""Provision on the running demo network, as agencies meet it: `juki provide` with the agency's
own credential over mutual TLS, at the national node and at a prefecture; what a task allows,
what it refuses (recorded, with the reason), a task withdrawn last year, a batch of 10,000
lookups with bad lines, and clients that are not agencies."""

from __future__ import annotations

import json
import ssl
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from juki.cli import main
from juki.core.clock import JST, FixedClock
from juki.core.files import write_private
from juki.network import pki
from juki.network.directory import NodeKind
from juki.network.pki import fingerprint
from juki.nodes.config import NodeConfig
from juki.nodes.provide import provide_batch
from juki.nodes.tables import identity_copies
from juki.provision import services
from juki.provision.commands import AddAgency
from juki.provision.model import AgencyKind
from juki.provision.requests import parse_lines
from juki.provision.store import SqlProvisionUnitOfWork
from juki.provision.tables import provision_agencies, provision_records
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.security.uow import SqlUnitOfWork
from juki.storage.engine import make_engine
from support.small_network import ADMIN, INAGI, SmallNetwork

ONKYU, NENKIN = "別表第一 の 一", "別表第一 の 九十一"
BATCH = 10_000


def _national(net: SmallNetwork) -> NodeConfig:
    return next(c for c in net.files.configs() if c.kind is NodeKind.NATIONAL)


def _rows(config: NodeConfig, stmt: Any) -> list[Any]:
    engine = make_engine(config.db)
    try:
        with engine.connect() as conn:
            return list(conn.execute(stmt).all())
    finally:
        engine.dispose()


def _provide(net: SmallNetwork, tmp: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    out = tmp / f"answers-{len(list(tmp.iterdir()))}.jsonl"
    code = main(["provide", "--dir", str(net.files.root), *args, "--out", str(out)])
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    return code, [json.loads(line) for line in text.splitlines()]


def _people(net: SmallNetwork) -> list[Any]:
    c = identity_copies.c
    return _rows(
        _national(net),
        sa.select(identity_copies)
        .where((c.status == "active") & c.my_number.is_not(None))
        .order_by(c.lg_code, c.resident_code),
    )


def test_the_task_decides_the_items_and_refusals_are_recorded(
    small_network: SmallNetwork, tmp_path: Path
) -> None:
    person = next(p for p in _people(small_network) if p.lg_code == INAGI)
    code = person.resident_code
    ok, [onkyu] = _provide(small_network, tmp_path, "--agency", "soumu-onkyu", "--task", ONKYU,
                           "--purpose", "恩給の支給", "--resident-code", code)  # fmt: skip
    assert ok == 0 and onkyu["outcome"] == "provided"
    assert "my_number" not in onkyu["identity"] and "resident_code" not in onkyu["identity"]
    assert onkyu["identity"]["family_name"] == person.family_name
    _, [nenkin] = _provide(small_network, tmp_path, "--agency", "nenkin", "--task", NENKIN,
                           "--purpose", "年金給付", "--resident-code", code)  # fmt: skip
    assert nenkin["identity"]["my_number"] == person.my_number  # a 個人番号利用事務

    # not registered for the task: the whole request refused; items not allowed: that lookup
    refused, [other] = _provide(small_network, tmp_path, "--agency", "soumu-onkyu", "--task",
                                NENKIN, "--purpose", "年金", "--resident-code", code)  # fmt: skip
    assert refused == 1 and other["reason"] == f"agency soumu-onkyu is not registered for {NENKIN}"
    _, [asked] = _provide(small_network, tmp_path, "--agency", "soumu-onkyu", "--task", ONKYU,
                          "--purpose", "恩給", "--resident-code", code,
                          "--items", "name,my_number")  # fmt: skip
    assert asked == {"line": 1, "outcome": "refused",
                     "reason": "items not allowed for the task: my_number"}  # fmt: skip

    # at 東京都 for its own residents only
    _, [tokyo] = _provide(small_network, tmp_path, "--node", "130001", "--agency",
                          "soumu-onkyu", "--task", ONKYU, "--purpose", "恩給",
                          "--resident-code", code)  # fmt: skip
    assert tokyo["identity"]["address"] == person.address
    elsewhere = next(p for p in _people(small_network) if not p.lg_code.startswith("13"))
    _, [none] = _provide(small_network, tmp_path, "--node", "130001", "--agency", "soumu-onkyu",
                         "--task", ONKYU, "--purpose", "恩給",
                         "--resident-code", elsewhere.resident_code)  # fmt: skip
    assert none["outcome"] == "not_found"

    pr = provision_records.c
    records = _rows(
        _national(small_network),
        sa.select(pr.agency_id, pr.task_ref, pr.outcome, pr.reason, pr["items"], pr.resident_code)
        .where(pr.purpose.in_(["恩給の支給", "年金給付", "年金", "恩給"]))
        .order_by(pr.record_id),
    )
    assert [(r.agency_id, r.outcome) for r in records][-4:] == [
        ("soumu-onkyu", "provided"),
        ("nenkin", "provided"),
        ("soumu-onkyu", "refused"),
        ("soumu-onkyu", "refused"),
    ]
    assert "my_number" not in records[-4].items.split(",") and records[-4].resident_code == code
    assert records[-2].reason.startswith("agency soumu-onkyu is not registered")


def _operator_token(config: NodeConfig) -> str:
    engine = make_engine(config.db)
    try:
        return create_operator(
            SqlUnitOfWork(engine), ADMIN, "e2e-national", "全国 試験", Role.NATIONAL_OPERATOR
        )
    finally:
        engine.dispose()


def test_a_task_withdrawn_last_year_refuses_today_and_its_provisions_still_show(
    small_network: SmallNetwork, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, this_year = _national(small_network), datetime.now(JST).year
    last_year = datetime(this_year - 1, 6, 1, 10, tzinfo=JST)
    # an agency registered two years ago with a root-issued credential, for a task in force
    # from 2020 until this year's first day
    root_key = pki.key_from_pem(Path(str(config.root_key)).read_bytes())
    root = pki.cert_from_pem(small_network.files.root_certificate.read_bytes())
    key, cert = pki.issue_key_pair(root_key, root, node_id="kyu-jimu", kind="agency",
                                   now=datetime.now(JST))  # fmt: skip
    write_private(tmp_path / "kyu-jimu.key", pki.key_to_pem(key))
    (tmp_path / "kyu-jimu.pem").write_bytes(pki.cert_to_pem(cert))
    engine = make_engine(config.db)
    try:
        services.add_agency(
            SqlProvisionUnitOfWork(engine, clock=FixedClock(last_year - timedelta(days=365))),
            Actor("e2e-national", Role.NATIONAL_OPERATOR, "console"),
            AddAgency(
                "kyu-jimu", "旧事務の機関", AgencyKind.NATIONAL_GOVERNMENT, fingerprint(cert)
            ),
        )
    finally:
        engine.dispose()
    task_file = tmp_path / "amendment.json"
    task_file.write_text(json.dumps({
        "format": "juki-provision-register/1",
        "agencies": [{"id": "kyu-jimu", "name": "旧事務の機関", "kind": "national_government"}],
        "tasks": [{"table": "第一", "row": "九十九", "title": "廃止された事務", "items": ["name"],
                   "my_number_task": False, "agencies": ["kyu-jimu"],
                   "effective_from": "2020-01-01", "withdrawn_on": f"{this_year}-01-01"}],
    }, ensure_ascii=False), encoding="utf-8")  # fmt: skip
    token = _operator_token(config)
    dir_ = str(small_network.files.root)
    assert main(["task", "load", "--dir", dir_, str(task_file), "--token", token]) == 0
    # last year, while the task was in force (the node's service, at last year's clock)
    code = _people(small_network)[0].resident_code
    good, _ = parse_lines([json.dumps({"resident_code": code})])
    engine = make_engine(config.db)
    try:
        then = provide_batch(engine, "kyu-jimu", "別表第一 の 九十九", "旧事務", good,
                             clock=FixedClock(last_year))  # fmt: skip
    finally:
        engine.dispose()
    assert then.answers[0].outcome.value == "provided"
    # today it refuses
    refused, [today] = _provide(small_network, tmp_path, "--credential", str(tmp_path),
                                "--agency", "kyu-jimu", "--task", "別表第一 の 九十九",
                                "--purpose", "旧事務", "--resident-code", code)  # fmt: skip
    assert refused == 1
    assert (
        today["reason"]
        == f"no permitted task 別表第一 の 九十九 in force on {datetime.now(JST).date()}"
    )
    capsys.readouterr()
    stats = ["provision", "stats", "--dir", dir_, "--token", token, "--json"]
    assert main([*stats, "--year", str(this_year - 1)]) == 0
    before = json.loads(capsys.readouterr().out)["provisions"]
    assert {"agency_id": "kyu-jimu", "task": "別表第一 の 九十九", "outcome": "provided",
            "count": 1} in before  # fmt: skip
    assert main([*stats[:-1], "--year", str(this_year)]) == 0
    table = capsys.readouterr().out
    assert "本人確認情報の提供状況" in table and "kyu-jimu\t別表第一 の 九十九\t拒否\t1" in table


def test_a_batch_answers_every_good_line_and_names_every_bad_one(
    small_network: SmallNetwork, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = _people(small_network)
    lines: list[str] = []
    bad = {17: "resident_code", 4242: "line", 9999: "birth_date"}
    for n in range(1, BATCH + 1):
        p = people[n % len(people)]
        if n == 17:
            lines.append('{"resident_code": "12345678901"}')  # check digit
        elif n == 4242:
            lines.append("{not json")
        elif n == 9999:
            lines.append('{"name_kana": "ヤマダ", "birth_date": "1980-02-30"}')
        elif n % 2:
            lines.append(json.dumps({"resident_code": p.resident_code}))
        else:
            kana = p.family_name_kana + " " + p.given_name_kana
            lines.append(json.dumps({"name_kana": kana, "birth_date": p.birth_date.isoformat(),
                                     "sex": p.sex}, ensure_ascii=False))  # fmt: skip
    query = tmp_path / "batch.jsonl"
    query.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pr = provision_records.c
    count = sa.select(sa.func.count()).select_from(provision_records)
    [(before,)] = _rows(_national(small_network), count.where(pr.purpose == "一括照会"))
    code, answers = _provide(small_network, tmp_path, "--agency", "soumu-onkyu", "--task",
                             ONKYU, "--purpose", "一括照会", "--query", str(query))  # fmt: skip
    assert code == 0
    assert [a["line"] for a in answers] == list(range(1, BATCH + 1))
    assert {a["line"]: a["error"]["field"] for a in answers if "error" in a} == bad
    answered = [a for a in answers if "outcome" in a]
    assert all(a["outcome"] in ("provided", "not_found") for a in answered)
    assert sum(a["outcome"] == "provided" for a in answered) >= BATCH // 2  # codes all found
    assert all("my_number" not in a.get("identity", {}) for a in answered)
    [(after,)] = _rows(_national(small_network), count.where(pr.purpose == "一括照会"))
    assert after - before == BATCH - len(bad)  # exactly one record per answer
    assert "provide: 10000 lines" in capsys.readouterr().err
    o = oplog.c
    [entry] = _rows(
        _national(small_network),
        sa.select(o.detail).where(
            (o.purpose == "一括照会") & (o.action == "provide_identity_info")
        ),
    )
    assert f"{BATCH - len(bad)} lookups" in entry.detail and "bad lines 3" in entry.detail


def _client(net: SmallNetwork, cert: Path | None, key: Path | None) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(net.files.root_certificate))
    if cert is not None and key is not None:
        context.load_cert_chain(str(cert), str(key))
    return httpx.Client(verify=context, timeout=30)


def test_clients_that_are_not_agencies_are_refused(
    small_network: SmallNetwork, tmp_path: Path
) -> None:
    national = _national(small_network)
    url = national.endpoint.rstrip("/") + "/provision/v1/requests"
    body = {"task": ONKYU, "purpose": "恩給", "lines": ['{"resident_code": "1"}']}
    with _client(small_network, None, None) as anonymous, pytest.raises(httpx.HTTPError):
        anonymous.post(url, json=body)  # the listener takes only root-issued client certificates
    inagi = NodeConfig.load(small_network.files.node_file(INAGI))
    root_key = pki.key_from_pem(Path(str(national.root_key)).read_bytes())
    root = pki.cert_from_pem(small_network.files.root_certificate.read_bytes())
    key, cert = pki.issue_key_pair(root_key, root, node_id="store-1", kind="store",
                                   now=datetime.now(JST))  # fmt: skip
    write_private(tmp_path / "store.key", pki.key_to_pem(key))
    (tmp_path / "store.pem").write_bytes(pki.cert_to_pem(cert))
    for who, cert_file, key_file in [
        ("node", Path(inagi.certificate), Path(inagi.key)),
        ("store", tmp_path / "store.pem", tmp_path / "store.key"),
        ("console", small_network.files.console_certificate, small_network.files.console_key),
    ]:
        with _client(small_network, cert_file, key_file) as client:
            r = client.post(url, json=body)
        assert (r.status_code, r.json()["type"]) == (401, "agency_not_registered"), who
    o = oplog.c
    refusals = _rows(
        national,
        sa.select(o.actor_id, o.detail)
        .where((o.action == "provide_identity_info") & (o.outcome == "rejected"))
        .order_by(o.seq.desc())
        .limit(3),
    )
    assert [r.detail for r in refusals] == [
        "a operator certificate, not an agency's",
        "a store certificate, not an agency's",
        "a municipality certificate, not an agency's",
    ]


def test_a_prefecture_registers_an_agency_with_the_certificate_national_issued(
    small_network: SmallNetwork, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    national = _national(small_network)
    tokyo = NodeConfig.load(small_network.files.node_file("130001"))
    engine = make_engine(tokyo.db)
    try:
        token = create_operator(
            SqlUnitOfWork(engine), ADMIN, "e2e-tokyo", "都 試験", Role.PREFECTURE_OPERATOR
        )
    finally:
        engine.dispose()
    root_key = pki.key_from_pem(Path(str(national.root_key)).read_bytes())
    root = pki.cert_from_pem(small_network.files.root_certificate.read_bytes())
    for who, kind in (("tokyo-kyoiku", "agency"), ("not-agency", "store")):
        _key, cert = pki.issue_key_pair(root_key, root, node_id=who, kind=kind,
                                        now=datetime.now(JST))  # fmt: skip
        (tmp_path / f"{who}.pem").write_bytes(pki.cert_to_pem(cert))
    add = ["agency", "add", "--dir", str(small_network.files.root), "--node", "130001",
           "--token", token, "--name", "東京都教育委員会", "--kind", "prefecture"]  # fmt: skip
    assert main([*add, "--agency-id", "tokyo-kyoiku"]) == 1  # no --certificate
    assert main([*add, "--agency-id", "not-agency",
                 "--certificate", str(tmp_path / "not-agency.pem")]) == 1  # fmt: skip
    assert "certificate: the certificate names store not-agency" in capsys.readouterr().err
    assert main([*add, "--agency-id", "tokyo-kyoiku",
                 "--certificate", str(tmp_path / "tokyo-kyoiku.pem")]) == 0  # fmt: skip
    listed = ["agency", "list", "--dir", str(small_network.files.root), "--node", "130001"]
    capsys.readouterr()
    assert main([*listed, "--token", token, "--json"]) == 0
    agencies = {a["agency_id"]: a for a in json.loads(capsys.readouterr().out)}
    assert agencies["tokyo-kyoiku"]["status"] == "active" and "nenkin" in agencies
    assert "tokyo-kyoiku" not in {
        r.agency_id for r in _rows(national, sa.select(provision_agencies.c.agency_id))
    }  # the prefecture's register is its own
