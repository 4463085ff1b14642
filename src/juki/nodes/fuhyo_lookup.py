"""Reading one person's 附票本人確認情報 a prefecture or national keeps (附票連携). Provision
reads the same tables set-based for a whole batch (`juki.nodes.provide.SqlIdentitySource`).

Two reads, by 住民票コード and by the four items (基本4情報: the name's reading, birth date, and
optionally sex and the start of the address), each now or as of a day (the change the 附票
recorded latest with a date on or before it). They take a connection and return plain dicts of
the message's fields (`FuhyoIdentityInfoBody`): they decide nothing about who may ask or which
items an answer may hold, and write no log: a caller that answers someone judges, trims and
records in its own transaction, as provision does (docs/provision.md).
`lg_codes` narrows the read to some 本籍 municipalities (a prefecture answering only for its own).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date
from typing import Any, Final

import sqlalchemy as sa

from juki.core.errors import ValidationError
from juki.core.identifiers import ResidentCode
from juki.core.text import normalize_kana
from juki.nodes.fuhyo_link import FIELDS
from juki.nodes.tables import fuhyo_identity_changes, fuhyo_identity_copies

LOOKUP_LIMIT: Final = 100


def _public(row: Any) -> dict[str, Any]:
    out = {f: row[f] for f in FIELDS}
    out["moved_abroad"] = bool(out["moved_abroad"])
    for f in ("birth_date", "changed_on"):
        out[f] = out[f].isoformat()
    return out


def _as_of(
    conn: sa.Connection, where: sa.ColumnElement[bool], on: date, lg_codes: Collection[str] | None
) -> list[dict[str, Any]]:
    """Per (本籍 municipality, person) among the history rows `where` picks, the latest
    change dated on or before `on`."""
    h = fuhyo_identity_changes.c
    people = sa.select(h.lg_code, h.resident_code).where(where).distinct()
    if lg_codes is not None:
        people = people.where(h.lg_code.in_(sorted(lg_codes)))
    pairs = conn.execute(people.limit(LOOKUP_LIMIT * 10)).all()
    out: list[dict[str, Any]] = []
    for lg, code in sorted(pairs):
        latest = conn.execute(
            sa.select(h.body)
            .where((h.lg_code == lg) & (h.resident_code == code) & (h.changed_on <= on))
            .order_by(h.changed_on.desc(), h.change_id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if latest is not None:
            out.append(json.loads(latest))
    return out


def _lg_filter(stmt: sa.Select[Any], lg_codes: Collection[str] | None) -> sa.Select[Any]:
    if lg_codes is None:
        return stmt
    return stmt.where(fuhyo_identity_copies.c.lg_code.in_(sorted(lg_codes)))


def fuhyo_identity_by_code(
    conn: sa.Connection,
    resident_code: str,
    *,
    on: date | None = None,
    lg_codes: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """The person's 附票本人確認情報 on each 附票 that holds them (one per 本籍 municipality;
    usually one), now or as of `on`. An invalid code is refused naming the field."""
    code = ResidentCode.parse(resident_code).value
    if on is not None:
        return _as_of(conn, fuhyo_identity_changes.c.resident_code == code, on, lg_codes)
    c = fuhyo_identity_copies.c
    stmt = _lg_filter(sa.select(fuhyo_identity_copies).where(c.resident_code == code), lg_codes)
    return [_public(r) for r in conn.execute(stmt.order_by(c.lg_code)).mappings()]


def fuhyo_identity_by_basic_items(
    conn: sa.Connection,
    *,
    name_kana: str,
    birth_date: date,
    sex: str | None = None,
    address_prefix: str | None = None,
    on: date | None = None,
    lg_codes: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """基本4情報: the reading (kana-normalised: hiragana or katakana, any width), the birth date,
    and optionally sex and the start of the address the 附票 records (a 国外転出者's last
    address in Japan); now or as of `on`. At most `LOOKUP_LIMIT` answers."""
    key = normalize_kana(name_kana)
    if not key:
        raise ValidationError(
            "name_kana", "required", "a reading is required", "氏名（カナ）を入力してください"
        )
    if sex is not None and sex not in ("male", "female"):
        raise ValidationError(
            "sex", "choice", "sex is male or female", "男女の別は male か female です"
        )
    if on is not None:
        h = fuhyo_identity_changes.c
        found = _as_of(conn, (h.name_kana_key == key) & (h.birth_date == birth_date), on, lg_codes)
        return [
            f
            for f in found
            if normalize_kana(f["family_name_kana"] + f["given_name_kana"]) == key
            and (sex is None or f["sex"] == sex)
            and (not address_prefix or f["address"].startswith(address_prefix))
        ][:LOOKUP_LIMIT]
    c = fuhyo_identity_copies.c
    stmt = sa.select(fuhyo_identity_copies).where(
        (c.name_kana_key == key) & (c.birth_date == birth_date)
    )
    if sex is not None:
        stmt = stmt.where(c.sex == sex)
    if address_prefix:
        stmt = stmt.where(c.address.startswith(address_prefix, autoescape=True))
    stmt = _lg_filter(stmt, lg_codes).order_by(c.lg_code, c.resident_code).limit(LOOKUP_LIMIT)
    return [_public(r) for r in conn.execute(stmt).mappings()]
