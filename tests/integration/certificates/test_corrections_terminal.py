"""The terminal's 訂正の申出 screen without a browser: a clerk lists the requests residents
filed in the portal and opens one; accepting it means entering the change on an entry screen,
filed through review (the request is accepted with the provisional change, and the record
changes only when another supervisor approves); rejecting it needs a reason (a bad one comes back
on the page, naming the field), and a decided request cannot be decided again. Reading the
queue and deciding are in the oplog; a role without the permission is refused and logged.
The resident's side (filing, and reading the decision in the portal) is in
tests/integration/nodes/test_portal_relay.py."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.core.identifiers import ResidentCode
from juki.registry.tables import correction_requests
from juki.security.permissions import Role
from juki.security.tables import oplog
from support.cert_population import CertEnv, person
from support.terminal_counter import TODAY, Counter

SERIAL = itertools.count()
NOBODY = ResidentCode.complete("1234567890").value  # no one here has it


@pytest.fixture(scope="module")
def counter(module_env: CertEnv) -> Counter:
    return Counter(module_env)


def _filed(c: Counter, code: str, text: str, request_id: str) -> str:
    """A request as the portal's relay files it (tests/integration/nodes/test_portal_relay.py
    files one through the relay itself)."""
    with c.env.engine.begin() as conn:
        conn.execute(
            correction_requests.insert().values(
                request_id=request_id,
                filed_at=f"{TODAY}T09:00:00+09:00",
                resident_code=code,
                card_serial="card-1",
                text=text,
                status="open",
            )
        )
    return request_id


def _status(c: Counter, request_id: str) -> tuple[str, str | None, str | None]:
    r = correction_requests.c
    with c.env.engine.connect() as conn:
        row = conn.execute(
            sa.select(r.status, r.decision_reason, r.change_id).where(r.request_id == request_id)
        ).one()
    return row.status, row.decision_reason, row.change_id


def test_accepting_files_the_change_through_review(counter: Counter) -> None:
    head = counter.env.reg.move_in(person("訂正", "一郎", "テイセイ", "イチロウ", date(1980, 1, 2)))
    rid = _filed(
        counter,
        head.resident_code,
        "続柄が違います（妻ではなく縁故者）",
        "req-accept-0000000000001",
    )
    listed = counter.get("super-e", "/corrections")
    assert listed.status_code == 200 and rid in listed.text and "続柄が違います" in listed.text
    opened = counter.get("super-e", f"/corrections/{rid}")
    link = f"/entry/correction-by-authority?record={head.record_id}&amp;correction={rid}"
    assert opened.status_code == 200 and link in opened.text
    form = counter.get("super-e", link.replace("&amp;", "&"))
    assert f'name="correction" value="{rid}"' in form.text
    data = {"record": head.record_id, "correction": rid, "given_name": "一朗",
            "effective_on": TODAY, "note": "申出による訂正"}  # fmt: skip
    confirm = counter.post("super-e", "/entry/correction-by-authority", data)
    assert f'name="correction" value="{rid}"' in confirm.text
    before = counter.pending()
    filed = counter.post("super-e", "/entry/correction-by-authority", {**data, "step": "file"})
    assert filed.status_code == 303, filed.text[:500]
    (change,) = counter.pending() - before
    assert _status(counter, rid) == ("accepted", None, change)
    assert counter.record(head.record_id).given_name == "一郎"  # 仮登録: not yet
    assert counter.post("super-f", "/review/approval", {"change": change}).status_code == 303
    assert counter.record(head.record_id).given_name == "一朗"
    assert rid not in counter.get("clerk-e", "/corrections").text  # no longer open
    again = counter.post("super-e", f"/corrections/{rid}/rejection", {"reason": "x"})
    assert again.status_code == 409 and "処理済み" in again.text
    reopened = counter.get("super-e", link.replace("&amp;", "&"))  # no second change for it
    assert reopened.status_code == 409 and "処理済み" in reopened.text


@settings(max_examples=10, suppress_health_check=list(HealthCheck), database=None, deadline=None)
@given(reason=st.one_of(st.just(""), st.just("   "), st.text(min_size=401, max_size=500),
                        st.text(alphabet="\x00\x07\x1b", min_size=1, max_size=5)))  # fmt: skip
def test_a_rejection_needs_a_reason_a_bad_one_is_named(counter: Counter, reason: str) -> None:
    rid = _filed(counter, NOBODY, "住所が違います", f"req-bad-reason-{next(SERIAL):08d}")
    r = counter.post("clerk-e", f"/corrections/{rid}/rejection", {"reason": reason})
    assert r.status_code == 422, r.text[:300]
    assert "項目: reason" in r.text or "入力内容が正しくありません" in r.text
    assert _status(counter, rid) == ("open", None, None)


def test_rejecting_keeps_the_reason_and_the_oplog_says_who(counter: Counter) -> None:
    rid = _filed(counter, NOBODY, "生年月日が違います", "req-reject-000000000001")
    r = counter.post("clerk-e", f"/corrections/{rid}/rejection",
                     {"reason": "戸籍の記載と一致しており、訂正の必要はありません"})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].endswith("/corrections?msg=rejected")
    assert _status(counter, rid) == (
        "rejected",
        "戸籍の記載と一致しており、訂正の必要はありません",
        None,
    )
    o = oplog.c
    with counter.env.engine.connect() as conn:
        entries = conn.execute(
            sa.select(o.actor_id, o.action, o.outcome).where(
                o.target == f"correction_request:{rid}"
            )
        ).all()
    assert ("clerk-e", "decide_correction_request", "ok") in entries


def test_a_role_without_the_permission_is_refused_and_logged(counter: Counter) -> None:
    rid = _filed(counter, NOBODY, "氏名が違います", "req-denied-000000000001")
    auditor = counter.operator("audit-e", Role.AUDITOR)
    assert counter.get(auditor, "/corrections").status_code == 403
    assert (
        counter.post(auditor, f"/corrections/{rid}/rejection", {"reason": "x"}).status_code == 403
    )
    assert _status(counter, rid)[0] == "open"
    o = oplog.c
    with counter.env.engine.connect() as conn:
        denied = conn.execute(
            sa.select(o.action).where((o.actor_id == "audit-e") & (o.outcome == "denied"))
        ).scalars()
        assert set(denied) == {"view_record", "decide_correction_request"}
