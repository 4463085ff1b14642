"""The counter's card operations on SQL (SQLite and PostgreSQL): the serial → resident link,
who may do what, what the oplog says, and the CLI's contract (SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography import x509

from juki.cards import ca_store
from juki.cards import services as cards
from juki.cards.ca import CardAuthority
from juki.cards.commands import AbolishCard, IssueCard, ResetPin
from juki.cards.local_ca import LocalCertifier
from juki.cards.model import AbolitionReason, Backend, CardStatus, KeyKind
from juki.cards.rules import CardLocked, WrongPin
from juki.cards.soft import SoftCardToken
from juki.cards.store import SqlCardUnitOfWork
from juki.cards.tables import card_certificates
from juki.cards.tables import cards as cards_table
from juki.cli import main
from juki.core.clock import JST, FixedClock
from juki.core.errors import PermissionDeniedError, RuleViolation
from juki.registry import services as svc
from juki.registry.commands import RecordBirth
from juki.registry.model import Relationship, ResidentRecord, Sex
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.storage.engine import make_engine
from support.backends import SqlBackend
from support.console_tokens import ConsoleTokens
from support.residents import CLERK, move_in, person, seed

NOW = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
TODAY = NOW.date()
PIN_MANAGER = Actor("pin-1", Role.PIN_MANAGER, "T09")
CS = Actor.system("cs")


@pytest.fixture(scope="module")
def ca() -> CardAuthority:
    return CardAuthority.create(NOW)


@pytest.fixture
def backend(migrated_db_url: str) -> Iterator[SqlBackend]:
    b = SqlBackend(make_engine(migrated_db_url), clock=FixedClock(NOW))
    seed(b)
    yield b
    b.dispose()


def _uow(b: SqlBackend) -> SqlCardUnitOfWork:
    return SqlCardUnitOfWork(b.engine, clock=b.clock, ids=b.ids)


def _actions(b: SqlBackend) -> list[tuple[str, str, str]]:
    with b.engine.connect() as conn:
        rows = conn.execute(
            sa.select(oplog.c.action, oplog.c.outcome, oplog.c.role)
            .where(oplog.c.target.like("card:%"))
            .order_by(oplog.c.seq)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _child(b: SqlBackend, head: ResidentRecord) -> ResidentRecord:
    return svc.record_birth(
        b.uow(),
        CLERK,
        RecordBirth(
            person=person("山田", "一郎", "ヤマダ", "イチロウ", date(2025, 3, 28), Sex.MALE),
            household_id=head.household_id,
            relationship=Relationship.CHILD,
            notified_on=date(2025, 3, 31),
        ),
    )


def test_the_serial_links_the_resident_and_each_counter_action_is_logged(
    backend: SqlBackend, ca: CardAuthority
) -> None:
    head = move_in(backend)
    certifier = LocalCertifier(backend.engine, ca, backend.clock)
    token = SoftCardToken("C-0001")
    issue = IssueCard(head.resident_code, "C-0001", Backend.SOFT, TODAY, "1234", "ABC123")
    card = cards.issue_card(_uow(backend), CLERK, issue, token, certifier)
    assert (card.status, card.resident_code) == (CardStatus.ISSUED, head.resident_code)
    assert backend.rows("cards")[0]["card_serial"] == "C-0001"
    assert cards.resident_for_card(_uow(backend), CS, "C-0001") == head.resident_code

    # one live card per resident; a signing certificate only from 15
    with pytest.raises(RuleViolation) as err:
        cards.issue_card(
            _uow(backend),
            CLERK,
            IssueCard(head.resident_code, "C-0002", Backend.SOFT, TODAY, "1234"),
            SoftCardToken("C-0002"),
            certifier,
        )
    assert err.value.rule == "card_exists"
    child = _child(backend, head)
    with pytest.raises(RuleViolation) as err:
        cards.issue_card(
            _uow(backend),
            CLERK,
            IssueCard(child.resident_code, "C-0003", Backend.SOFT, TODAY, "4321", "ABC123"),
            SoftCardToken("C-0003"),
            certifier,
        )
    assert (err.value.field, err.value.rule) == ("signing_password", "signing_under_15")
    assert [r["card_serial"] for r in backend.rows("cards")] == ["C-0001"]

    # 一時停止: held at the CA (on the CRL as certificateHold, so the relay refuses the card)
    # and the municipality's question refused, until it is resumed
    auth_serial = int(card.auth_cert_serial or "", 16)
    with backend.engine.connect() as conn:
        version = ca_store.status_version(conn)
    cards.suspend_card(_uow(backend), CLERK, "C-0001", certifier)
    with pytest.raises(RuleViolation) as err:
        cards.resident_for_card(_uow(backend), CS, "C-0001")
    assert err.value.rule == "card_not_usable"
    entry = certifier.crl().get_revoked_certificate_by_serial_number(auth_serial)
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.certificate_hold
    cards.resume_card(_uow(backend), CLERK, "C-0001", certifier)
    assert certifier.crl().get_revoked_certificate_by_serial_number(auth_serial) is None
    with backend.engine.connect() as conn:
        assert ca_store.status_version(conn) == version + 2  # each change of the list counted
    # 継続利用 at the CA: the card routes to the municipality it is taken over by
    assert certifier.take_over("C-0001", head.resident_code, "999999").lg_code == card.lg_code
    assert certifier.holder("C-0001", head.resident_code, "999999").lg_code == "999999"

    # three wrong PINs lock it; only the 暗証番号管理者 resets it
    for _ in range(2):
        with pytest.raises(WrongPin):
            token.sign_auth("0000", b"c")
    with pytest.raises(CardLocked):
        token.sign_auth("0000", b"c")
    with pytest.raises(PermissionDeniedError):
        cards.reset_card_pin(_uow(backend), CLERK, ResetPin("C-0001", KeyKind.AUTH, "9999"), token)
    cards.reset_card_pin(
        _uow(backend), PIN_MANAGER, ResetPin("C-0001", KeyKind.AUTH, "9999"), token
    )
    assert token.sign_auth("9999", b"c")

    # 廃止: both certificates revoked in the CA's ledger
    abolished = cards.abolish_card(
        _uow(backend), CLERK, AbolishCard("C-0001", AbolitionReason.RETURNED, TODAY), certifier
    )
    assert abolished.status is CardStatus.ABOLISHED
    ledger = backend.rows("card_certificates")
    assert {(r["kind"], r["revocation_reason"]) for r in ledger} == {
        ("auth", "returned"),
        ("signing", "returned"),
    }
    assert _actions(backend) == [
        ("issue_card", "ok", "counter_clerk"),
        ("resolve_card", "ok", "system"),
        ("issue_card", "rejected", "counter_clerk"),
        ("issue_card", "rejected", "counter_clerk"),
        ("suspend_card", "ok", "counter_clerk"),
        ("resolve_card", "rejected", "system"),
        ("suspend_card", "ok", "counter_clerk"),
        ("reset_card_pin", "denied", "counter_clerk"),
        ("reset_card_pin", "ok", "pin_manager"),
        ("abolish_card", "ok", "counter_clerk"),
    ]
    assert not any(
        "1234" in str(v) or "9999" in str(v) for r in backend.rows("oplog") for v in r.values()
    )


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_issues_unlocks_and_abolishes(
    migrated_sqlite_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    b = SqlBackend(make_engine(migrated_sqlite_url))
    try:
        seed(b)
        head = move_in(b)
        tokens = ConsoleTokens(b.engine)
        monkeypatch.setenv("JUKI_KEYS_DIR", str(tmp_path / "keys"))
        monkeypatch.setenv("JUKI_TOKEN", tokens.token(Role.COUNTER_CLERK))
        card_file = tmp_path / "card.json"
        common = ["--db", migrated_sqlite_url]
        status, out, err = _run(
            ["card", "issue", *common, "--resident-code", head.resident_code, "--pin", "12a4"],
            capsys,
        )
        assert status == 1 and "pin" in err and "4 digits" in err, err
        status, out, err = _run(
            [
                "card", "issue", *common, "--resident-code", head.resident_code,
                "--pin", "1234", "--token", "soft", "--card-serial", "CLI-0001",
                "--card-file", str(card_file),
            ],
            capsys,
        )  # fmt: skip
        assert (status, out.strip()) == (0, "card CLI-0001: issued"), err
        assert SoftCardToken.load(card_file).auth_certificate()
        status, out, _ = _run(
            ["card", "status", *common, "--resident-code", head.resident_code, "--json"], capsys
        )
        assert '"status": "issued"' in out and '"signing_certificate": false' in out
        unlock = ["card", "unlock", *common, "--card-serial", "CLI-0001", "--pin", "5678"]
        unlock += ["--card-file", str(card_file)]
        status, _, err = _run(unlock, capsys)
        assert status == 1 and "reset_card_pin" in err  # a clerk may not
        status, _, err = _run([*unlock, "--operator-token", tokens.token(Role.PIN_MANAGER)], capsys)
        assert status == 0, err
        assert SoftCardToken.load(card_file).sign_auth("5678", b"c")
        status, out, err = _run(["card", "abolish", *common, "--card-serial", "CLI-0001"], capsys)
        assert (status, out.strip()) == (0, "card CLI-0001: abolished"), err
        with b.engine.connect() as conn:
            revoked = conn.execute(
                sa.select(sa.func.count())
                .select_from(card_certificates)
                .where(card_certificates.c.revoked_at.is_not(None))
            ).scalar_one()
            assert revoked == 1
            assert conn.execute(sa.select(cards_table.c.status)).scalar_one() == "abolished"
    finally:
        b.dispose()
