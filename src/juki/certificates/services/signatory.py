"""The certifier every certificate names: the mayor's title and name (市区町村長の職名と氏名).

A 住民票の写し, 記載事項証明書 or 印鑑登録証明書 is certified by the mayor, by title and name
(省令 and 事務処理要領: 「東京都稲城市長　髙橋　勝浩」). Each municipality sets its own in its
municipality record (`juki cert signatory`); the title defaults to the municipality's 「…長」, and
an acting mayor's (職務代理者) title is set the same way. Certificates issued afterwards print it;
those issued before keep what they were signed with.
"""

from __future__ import annotations

from typing import Final

from juki.certificates.ports import CertificateUnitOfWork
from juki.core.text import validate_name
from juki.registry.model import Municipality
from juki.registry.ports import RegistryUnitOfWork
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission

MAX_SIGNATORY_LEN: Final = 40


def set_mayor(
    uow: CertificateUnitOfWork, by: Actor, name: str, title: str | None = None
) -> Municipality:
    """Record the mayor's name (and title, when not the default 「…長」) for this municipality."""

    def run(_: RegistryUnitOfWork) -> Municipality:
        clean_name = validate_name("mayor_name", name, max_len=MAX_SIGNATORY_LEN)
        clean_title = (
            validate_name("mayor_title", title, max_len=MAX_SIGNATORY_LEN) if title else None
        )
        uow.certificates.set_mayor(clean_title, clean_name)
        current = uow.municipality
        return Municipality(
            current.lg_code, current.prefecture, current.name, clean_title, clean_name
        )

    return perform(
        uow,
        by,
        Permission.SET_CERTIFICATE_SIGNATORY,
        "municipality:signatory",
        run,
        describe=lambda m: f"signatory: {m.signatory}",
    )
