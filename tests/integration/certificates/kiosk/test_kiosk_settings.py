"""A municipality's kiosk settings: stored per municipality, changed only by a role with the
settings permission (service, API and command line), each change in the oplog, and followed by
the certificate server (the fee charged, the certificates offered)."""

from __future__ import annotations

import dataclasses
import json
from datetime import time
from types import MappingProxyType
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from juki import cli
from juki.certificates.kiosk.messages import KioskRequest, new_request_id
from juki.certificates.kiosk.model import DEFAULT_SETTINGS
from juki.certificates.kiosk.services import (
    KioskProduction,
    issue_for_card_holder,
    kiosk_settings,
    relay_actor,
    set_kiosk_settings,
)
from juki.certificates.kiosk.store import SqlKioskReader, SqlKioskUnitOfWork
from juki.certificates.model import CertificateKind
from juki.core.errors import PermissionDeniedError, ValidationError
from juki.security import tables as security_tables
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import CLERK, MANAGER, CertEnv, registry_app

URL = "/api/v1/certificates/kiosk/settings"
RELAY = relay_actor("national-1")


def settings_log(env: CertEnv) -> list[Any]:
    o = security_tables.oplog.c
    with env.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(o.actor_id, o.outcome, o.detail)
                .where(o.action == "manage_kiosk_settings")
                .order_by(o.entry_id)
            ).all()
        )


def test_settings_are_the_managers_logged_and_followed_by_the_server(
    env: CertEnv, production: KioskProduction
) -> None:
    uow = lambda: SqlKioskUnitOfWork(env.engine, clock=env.reg.clock)  # noqa: E731
    assert kiosk_settings(uow(), MANAGER) == DEFAULT_SETTINGS
    fees = dict(DEFAULT_SETTINGS.fees) | {CertificateKind.RESIDENCE: 200}
    wanted = dataclasses.replace(
        DEFAULT_SETTINGS,
        kinds=DEFAULT_SETTINGS.kinds | {CertificateKind.FUHYO},
        fees=MappingProxyType(fees),
        opens=time(7, 0),
    )
    assert set_kiosk_settings(uow(), MANAGER, wanted) == wanted
    assert kiosk_settings(uow(), MANAGER) == wanted
    for who in (CLERK, RELAY):
        with pytest.raises(PermissionDeniedError):
            set_kiosk_settings(uow(), who, DEFAULT_SETTINGS)
    with pytest.raises(ValidationError) as bad:
        set_kiosk_settings(uow(), MANAGER, dataclasses.replace(wanted, closes=time(6, 0)))
    assert bad.value.field == "closes"
    assert kiosk_settings(uow(), MANAGER) == wanted  # the refused change changed nothing
    log = settings_log(env)
    assert [(a, o) for a, o, _ in log].count((MANAGER.actor_id, "ok")) == 4
    assert any('"residence": 200' in d for _, _, d in log)
    assert {o for _, o, _ in log} == {"ok", "denied", "rejected"}
    # The server follows them: the new fee, and the 附票 offered (this registry keeps none of
    # the head's, so the answer now says so instead of "not offered").

    def ask(kind: str) -> Any:
        request = KioskRequest(
            request_id=new_request_id(), card_serial="SN-1", lg_code="132250", kind=kind
        )
        return issue_for_card_holder(
            uow(),
            RELAY,
            env.people.head.resident_code,
            request,
            reader=SqlKioskReader(env.engine),
            production=production,
        )

    answer = ask("residence")
    assert answer.certificate is not None and answer.certificate.fee_yen == 200
    fuhyo = ask("fuhyo")
    assert fuhyo.refusal is not None and fuhyo.refusal.code.value != "kind_not_offered"


# The routes and the command translate only: the service and its storage are tested on both
# backends above, so these run on a SQLite copy of the same registry.
@pytest.mark.parametrize("env", ["sqlite"], indirect=True)
def test_settings_over_the_api_and_the_command_line(
    env: CertEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = {
        role: create_operator(
            SqlUnitOfWork(env.engine), MANAGER, f"k-{role.value}", "設定 者", role
        )
        for role in (Role.OPERATIONS_MANAGER, Role.COUNTER_CLERK)
    }
    auth = {"Authorization": f"Bearer {tokens[Role.OPERATIONS_MANAGER]}"}
    with TestClient(registry_app(env), base_url="https://testserver") as client:
        shown = client.get(URL, headers=auth)
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert body["opens"] == "06:30" and body["closes"] == "23:00"
        assert (body["closed_from"], body["closed_until"]) == ("12-29", "01-03")
        body["fees"]["seal"] = 250
        assert client.put(URL, json=body, headers=auth).json()["fees"]["seal"] == 250
        bad = client.put(URL, json=body | {"opens": "23:30"}, headers=auth)
        assert bad.status_code == 422, bad.text
        (item,) = bad.json()["detail"]
        assert item["loc"][-1] == "closes" and item["type"] == "order" and item["msg_ja"]
        bad_body = client.put(URL, json=body | {"opens": "6:30am"}, headers=auth)
        assert bad_body.status_code == 422 and "opens" in bad_body.text
        clerk = {"Authorization": f"Bearer {tokens[Role.COUNTER_CLERK]}"}
        assert client.put(URL, json=body, headers=clerk).status_code == 403
    db = env.engine.url.render_as_string(hide_password=False)
    token = ["--db", db, "--token", tokens[Role.OPERATIONS_MANAGER]]
    argv = ["cert", "kiosk-settings", "set", "--fee", "record_items=150", "--no-closure"]
    assert cli.main([*argv, *token]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fees"]["record_items"] == 150 and out["fees"]["seal"] == 250
    assert out["closed_from"] is None and out["closed_until"] is None
    assert cli.main(["cert", "kiosk-settings", "set", "--closes", "05:00", *token]) == 1
    assert "closes" in capsys.readouterr().err
    assert cli.main(["cert", "kiosk-settings", "show", *token]) == 0
    assert json.loads(capsys.readouterr().out) == out
    assert [o for _, o, _ in settings_log(env)].count("ok") >= 5
