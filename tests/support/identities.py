"""identity_info for tests: one person, any field replaced."""

from __future__ import annotations

from datetime import date
from typing import Any

from juki.core.identifiers import ResidentCode
from juki.network.messages import IdentityInfoBody


def identity_info(n: int = 0, **fields: Any) -> IdentityInfoBody:
    """A 稲城市 resident numbered `n` (a valid code of its own), with `fields` replaced."""
    base: dict[str, Any] = {
        "resident_code": ResidentCode.complete(f"{1_000_000_000 + n:010d}").value,
        "my_number": None,
        "family_name": "試験",
        "given_name": "太郎",
        "family_name_kana": "シケン",
        "given_name_kana": "タロウ",
        "birth_date": date(1980, 1, 2),
        "sex": "male",
        "address": "東京都稲城市東長沼1番地",
        "status": "active",
        "lg_code": "132250",
        "change_reason": "relocation",
        "changed_on": date(2025, 4, 1),
    }
    return IdentityInfoBody(**(base | fields))
