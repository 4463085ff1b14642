"""Giving a resident of a network municipality a working 個人番号カード, the real way: keys on a
software card, certificates from the national card CA over the in-memory network, the link in
the municipality's card register (a card-based 転出届 needs one; a my_number is not a card)."""

from __future__ import annotations

from juki.cards import services as cards
from juki.cards.commands import IssueCard
from juki.cards.model import Backend
from juki.cards.soft import SoftCardToken
from juki.cards.store import SqlCardUnitOfWork
from juki.nodes.cards import NetworkCertifier
from juki.nodes.municipality import MunicipalityNode
from juki.security.actors import Actor
from juki.security.permissions import Role

CARD_CLERK = Actor("card-clerk", Role.COUNTER_CLERK, "T1")


def issue_card(node: MunicipalityNode, resident_code: str) -> SoftCardToken:
    token = SoftCardToken(f"CARD-{resident_code}")
    cards.issue_card(
        SqlCardUnitOfWork(node.engine, clock=node.clock),
        CARD_CLERK,
        IssueCard(resident_code, token.serial, Backend.SOFT, node.clock.today(), "1234"),
        token,
        NetworkCertifier(node),
    )
    return token
