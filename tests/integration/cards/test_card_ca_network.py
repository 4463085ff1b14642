"""The card CA on the national node, through the in-memory network, once: a card issued at
稲城市's counter (keys on a software card, certificates from national), verified as the relay
will, its signing certificate revoked by a 転居 and both by a death; a card asked for another
municipality's resident is refused by the CA."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from juki.cards import services as cards
from juki.cards.ca import signing_items_of
from juki.cards.commands import IssueCard
from juki.cards.model import Backend, CardStatus, KeyKind
from juki.cards.soft import SoftCardToken
from juki.cards.store import SqlCardUnitOfWork
from juki.cards.tables import card_certificates
from juki.cards.verify import CardRefused, CardVerifier, ChallengeBook
from juki.core.clock import JST, FixedClock
from juki.core.errors import RuleViolation
from juki.nodes.cards import NetworkCertifier
from juki.nodes.layout import small_layout
from juki.nodes.memory import InProcessNetwork, build_network
from juki.registry import services as svc
from juki.registry.commands import (
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    RecordDeath,
    RecordMoveIn,
    RecordRelocation,
)
from juki.registry.model import ResidentRecord, Sex
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role

INAGI, FUJISAWA = "132250", "142051"
CLERK = Actor("clerk", Role.COUNTER_CLERK, "T1")
TODAY = date(2025, 4, 1)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessNetwork]:
    where = tmp_path_factory.mktemp("cardca")
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    network = build_network(small_layout(), lambda n: f"sqlite:///{where}/{n}.db", clock, seed=5)
    network.national.allot(INAGI, 50)
    network.run_until_quiet()
    yield network
    network.dispose()


def arrive(net: InProcessNetwork, given: str) -> ResidentRecord:
    node = net.municipality(INAGI)
    record = svc.record_move_in(
        SqlRegistryUnitOfWork(node.engine, clock=node.clock),
        CLERK,
        RecordMoveIn(
            person=PersonalItems(
                family_name="山田",
                given_name=given,
                family_name_kana="ヤマダ",
                given_name_kana="タロウ",
                birth_date=date(1980, 5, 5),
                sex=Sex.MALE,
            ),
            origin=MoveInOrigin.ABROAD,
            address="東京都稲城市東長沼1番地",
            moved_on=date(2025, 3, 20),
            notified_on=date(2025, 3, 25),
            previous_address="アメリカ合衆国",
            placement=NewHousehold(),
        ),
    )
    net.run_until_quiet()
    return record


def verifier(net: InProcessNetwork) -> CardVerifier:
    national = net.national
    assert national.card_ca is not None
    return CardVerifier(
        national.card_ca.certificate,
        national.card_crl,
        ChallengeBook(national.clock.now),
        national.clock.now,
    )


def present(net: InProcessNetwork, card: SoftCardToken) -> str:
    check = verifier(net)
    challenge = check.challenges.issue()
    return check.verify(card.auth_certificate(), challenge, card.sign_auth("1234", challenge))


def revoked_kinds(net: InProcessNetwork, serial: str) -> set[str]:
    c = card_certificates.c
    with net.national.engine.connect() as conn:
        rows = conn.execute(
            sa.select(c.kind).where((c.card_serial == serial) & c.revoked_at.is_not(None))
        )
        return set(rows.scalars())


def test_issue_verify_and_revoke_through_the_national_ca(net: InProcessNetwork) -> None:
    inagi = net.municipality(INAGI)
    person = arrive(net, "太郎")
    uow = SqlCardUnitOfWork(inagi.engine, clock=inagi.clock)
    token = SoftCardToken("INAGI-0001")
    card = cards.issue_card(
        uow,
        CLERK,
        IssueCard(person.resident_code, "INAGI-0001", Backend.SOFT, TODAY, "1234", "ABC123"),
        token,
        NetworkCertifier(inagi),
    )
    assert card.status is CardStatus.ISSUED and card.signing_cert_serial
    items = signing_items_of(token.signing_certificate())
    assert (items.name, items.address) == ("山田\u3000太郎", "東京都稲城市東長沼1番地")

    # the relay's two steps: the card is verified at national, resolved at its municipality
    assert present(net, token) == "INAGI-0001"
    system = inagi.system_actor()
    assert cards.resident_for_card(uow, system, "INAGI-0001") == person.resident_code

    # 転居: the address on the signing certificate is no longer true; the card still works
    svc.record_relocation(
        SqlRegistryUnitOfWork(inagi.engine, clock=inagi.clock),
        CLERK,
        RecordRelocation((person.record_id,), "東京都稲城市百村3番地", TODAY, TODAY),
    )
    net.run_until_quiet()
    assert revoked_kinds(net, "INAGI-0001") == {KeyKind.SIGNING.value}
    assert present(net, token) == "INAGI-0001"

    # death: both are revoked, and the relay refuses the card
    svc.record_death(
        SqlRegistryUnitOfWork(inagi.engine, clock=inagi.clock),
        CLERK,
        RecordDeath(person.record_id, TODAY, TODAY),
    )
    net.run_until_quiet()
    assert revoked_kinds(net, "INAGI-0001") == {"auth", "signing"}
    with pytest.raises(CardRefused) as err:
        present(net, token)
    assert err.value.rule == "certificate_revoked"
    with pytest.raises(RuleViolation) as gone:
        cards.resident_for_card(uow, system, "INAGI-0001")
    assert gone.value.rule == "holder_not_resident"


def test_the_ca_certifies_only_the_asking_municipalitys_resident(
    net: InProcessNetwork, tmp_path: Path
) -> None:
    """藤沢市 asks the CA for a card of 稲城市's resident: the CA refuses, nothing issued."""
    person = arrive(net, "次郎")
    fujisawa = net.municipality(FUJISAWA)
    token = SoftCardToken("FUJI-0001")
    auth = token.generate_key(KeyKind.AUTH, "1234")
    from juki.cards.ports import CertificationRequest

    with pytest.raises(RuleViolation) as err:
        NetworkCertifier(fujisawa).certify(
            CertificationRequest("FUJI-0001", person.resident_code, FUJISAWA, auth, None, None)
        )
    assert err.value.rule == "not_a_resident_here"
    c = card_certificates.c
    with net.national.engine.connect() as conn:
        assert (
            conn.execute(sa.select(c.cert_serial).where(c.card_serial == "FUJI-0001")).all() == []
        )
