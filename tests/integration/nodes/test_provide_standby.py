"""Provision read on the national node's hot standby, through the agencies' door: the answer
holds a change the primary committed just before the request, every lookup is recorded on the
primary and the oplog entry says where it was read; a standby still behind is not read (the
primary answers, and the entry says why); a configured standby that is not one is refused."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki.core.clock import JST, FixedClock
from juki.core.identifiers import ResidentCode
from juki.core.settings import Settings
from juki.network import pki
from juki.network.messages import IdentityInfoBody
from juki.nodes.apps import create_node_app
from juki.nodes.bootstrap import standby_of
from juki.nodes.config import ConfigError
from juki.nodes.identity import apply_identity
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.nodes.provision_register import AGENCY_KIND, register_certificate, uow_of
from juki.provision import services
from juki.provision.commands import LoadTasks
from juki.provision.model import AgencyKind, Item, PermittedTask
from juki.provision.tables import provision_records
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.storage.engine import make_engine
from juki.storage.standby import Standby
from support.kiosk_world import as_store
from support.node_apps import app_config
from support.standby import StandbyPair, standby_pair

pytestmark = pytest.mark.postgres

AGENCY = "standby-agency"
OPERATOR = Actor("nat-op", Role.NATIONAL_OPERATOR, "console")
TASK = PermittedTask("第二", "九十八", "試験の事務", frozenset({Item.NAME, Item.ADDRESS}), False,
                     frozenset({AGENCY}), date(2020, 1, 1))  # fmt: skip
CODE = ResidentCode.complete("1000000001").value
PATH = "/provision/v1/requests"
NOW = datetime(2026, 4, 1, 9, tzinfo=JST)


@dataclass
class Door:
    pair: StandbyPair
    net: InProcessNetwork
    client: TestClient
    standby: Standby


def _person(address: str, n: int) -> IdentityInfoBody:
    return IdentityInfoBody(resident_code=CODE, my_number=None, family_name="試験",
                            given_name="花子", family_name_kana="シケン", given_name_kana="ハナコ",
                            birth_date=date(1990, 1, 1), sex="female", address=address,
                            status="active", lg_code="132250",
                            change_reason="birth" if n == 0 else "relocation",
                            changed_on=date(2020, 1, 1 + n))  # fmt: skip


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    tmp: Path = tmp_path_factory.mktemp("standby")
    with standby_pair() as pair:
        urls = {"national": pair.primary_url}
        net = build_network(
            small_layout(), lambda n: urls.get(n, f"sqlite:///{tmp}/{n}.db"), FixedClock(NOW), 7
        )
        national = net.national
        _key, cert = pki.issue_key_pair(net.root_key, net.root_cert, node_id=AGENCY,
                                        kind=AGENCY_KIND, now=NOW)  # fmt: skip
        register_certificate(national, OPERATOR, AGENCY, "試験機関", AgencyKind.NATIONAL_GOVERNMENT,
                             pki.cert_to_pem(cert))  # fmt: skip
        services.load_tasks(uow_of(national), OPERATOR, LoadTasks((TASK,)))
        national.standby = standby = Standby(make_engine(pair.standby_url), max_wait_s=30)
        standby.check(national.engine)
        app = create_node_app(national, app_config(national, "standby-admin"), Settings())
        as_store(app, cert)
        try:
            yield Door(pair, net, TestClient(app), standby)
        finally:
            standby.engine.dispose()
            net.dispose()


def _moved(door: Door, address: str, n: int) -> None:
    with door.net.national.engine.begin() as conn:
        apply_identity(conn, _person(address, n), message_id=f"m{n}", now=NOW)


def _ask(door: Door) -> tuple[dict[str, object], str]:
    body = {"task": TASK.ref, "purpose": "試験", "lines": [json.dumps({"resident_code": CODE})]}
    r = door.client.post(PATH, json=body)
    assert r.status_code == 200, r.text
    request_id = r.json()["request_id"]
    with door.net.national.engine.connect() as conn:
        detail = conn.execute(
            sa.select(oplog.c.detail).where(oplog.c.detail.startswith(f"request {request_id}:"))
        ).scalar_one()
        recorded = conn.execute(
            sa.select(provision_records.c.outcome).where(
                provision_records.c.request_id.startswith(request_id)
            )
        ).scalars()
        assert list(recorded) == ["provided"]
    line = r.json()["lines"][0]
    assert isinstance(line, dict)
    return line["identity"], detail


def test_the_standby_answers_with_what_the_primary_committed_just_before(door: Door) -> None:
    addresses = ["東京都稲城市東長沼１", "東京都稲城市平尾２", "東京都稲城市坂浜３"]
    for n, address in enumerate(addresses):
        _moved(door, address, n)
        identity, detail = _ask(door)
        assert identity["address"] == address
        assert "; read on the standby, replayed to " in detail


def test_a_standby_still_behind_is_not_read_and_the_oplog_says_why(door: Door) -> None:
    """… and the metrics count it: one more read on the primary for it being behind."""
    before = _reads(door)
    door.pair.pause_replay()
    try:
        door.standby.max_wait_s = 0.3
        _moved(door, "東京都稲城市若葉台４", 5)
        identity, detail = _ask(door)
        assert identity["address"] == "東京都稲城市若葉台４"  # the primary answered
        assert "; read on the primary: the standby had not replayed " in detail
    finally:
        door.pair.resume_replay()
        door.standby.max_wait_s = 30
    _, detail = _ask(door)
    assert "; read on the standby" in detail
    after = _reads(door)
    assert after["behind"] == before.get("behind", 0) + 1
    assert after["standby"] == before.get("standby", 0) + 1


def _reads(door: Door) -> dict[str, float]:
    """`juki_standby_reads_total` by where requests' lookups were read."""
    prefix = 'juki_standby_reads_total{read_on="'
    return {
        line[len(prefix) :].split('"')[0]: float(line.split()[-1])
        for line in door.client.get("/metrics").text.splitlines()
        if line.startswith(prefix)
    }


def test_a_configured_standby_that_is_not_one_is_refused(door: Door) -> None:
    config = app_config(door.net.national, "x")
    national = door.net.national.engine
    with pytest.raises(ConfigError, match="not in recovery"):
        standby_of(dataclasses.replace(config, standby_db=door.pair.primary_url), national)
    with pytest.raises(ConfigError, match="only a PostgreSQL standby"):
        standby_of(dataclasses.replace(config, standby_db="sqlite://"), national)
    with pytest.raises(ConfigError, match="not a database URL"):
        standby_of(dataclasses.replace(config, standby_db="::not a url::"), national)
    with pytest.raises(ConfigError, match="cannot reach it"):
        standby_of(
            dataclasses.replace(config, standby_db="postgresql://juki@127.0.0.1:1/x"), national
        )
    standby = standby_of(dataclasses.replace(config, standby_db=door.pair.standby_url), national)
    assert standby.engine.url.query["connect_timeout"] == "2"  # never minutes on a lost host
    standby.engine.dispose()


def test_a_standby_that_stalls_once_connected_is_bounded_unless_its_url_says_otherwise(
    door: Door,
) -> None:
    """A statement running on past 5 s is cancelled, and TCP keepalives find a host gone from
    the network; a URL's own settings are kept."""
    config = app_config(door.net.national, "x")
    national = door.net.national.engine
    standby = standby_of(dataclasses.replace(config, standby_db=door.pair.standby_url), national)
    try:
        with standby.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "5s"
            params = conn.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
            assert (params["keepalives"], params["keepalives_idle"]) == ("1", "5")
    finally:
        standby.engine.dispose()
    own = sa.make_url(door.pair.standby_url).update_query_dict(
        {"options": "-c statement_timeout=7s", "keepalives_idle": "30"}
    )
    standby = standby_of(
        dataclasses.replace(config, standby_db=own.render_as_string(hide_password=False)),
        national,
    )
    try:
        with standby.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "7s"
            params = conn.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
            assert params["keepalives_idle"] == "30"
    finally:
        standby.engine.dispose()


def _metric(door: Door, name: str) -> float | None:
    for line in door.client.get("/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return None


def test_the_metrics_show_the_standby_up_and_how_far_behind(door: Door) -> None:
    """What an operator watches: a standby behind sends reads to the primary."""
    door.pair.pause_replay()
    try:
        _moved(door, "東京都稲城市向陽台６", 7)
        assert _metric(door, "juki_standby_up") == 1.0
        behind = _metric(door, "juki_standby_replay_lag_bytes")
        assert behind is not None and behind > 0
    finally:
        door.pair.resume_replay()
    national = door.net.national
    standby = national.standby
    national.standby = Standby(make_engine("postgresql://juki@127.0.0.1:1/x"))
    try:
        assert _metric(door, "juki_standby_up") == 0.0
        assert _metric(door, "juki_standby_replay_lag_bytes") is None
    finally:
        national.standby.engine.dispose()
        national.standby = standby
