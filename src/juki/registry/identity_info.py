"""本人確認情報: the only personal data that ever leaves the municipality (seed 001 第8).

The network issue carries these values; nothing else of a record can be put in a message because
the message schema is built from `IDENTITY_FIELDS` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from juki.registry.model import ChangeReason, RecordChange, RecordStatus, ResidentRecord, Sex

IDENTITY_FIELDS: Final = (
    "resident_code",
    "my_number",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "address",
    "status",
)


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    resident_code: str
    my_number: str | None
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    address: str
    status: RecordStatus
    lg_code: str
    change_reason: ChangeReason  # 変更情報: why and when it last changed
    changed_on: date

    def to_payload(self) -> dict[str, Any]:
        return {
            "resident_code": self.resident_code,
            "my_number": self.my_number,
            "family_name": self.family_name,
            "given_name": self.given_name,
            "family_name_kana": self.family_name_kana,
            "given_name_kana": self.given_name_kana,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex.value,
            "address": self.address,
            "status": self.status.value,
            "lg_code": self.lg_code,
            "change_reason": self.change_reason.value,
            "changed_on": self.changed_on.isoformat(),
        }


def identity_info_of(record: ResidentRecord, change: RecordChange) -> IdentityInfo:
    return IdentityInfo(
        resident_code=record.resident_code,
        my_number=record.my_number,
        family_name=record.family_name,
        given_name=record.given_name,
        family_name_kana=record.family_name_kana,
        given_name_kana=record.given_name_kana,
        birth_date=record.birth_date,
        sex=record.sex,
        address=record.address,
        status=record.status,
        lg_code=record.lg_code,
        change_reason=change.reason,
        changed_on=change.effective_on,
    )


# A move-out confirmation changes no identity item at this municipality, but the levels above
# must learn where the person went (転出確定, seed 002 第2条).
_ALWAYS_SENT: Final = frozenset({ChangeReason.MOVE_OUT_CONFIRMED})


def touches_identity_info(before: ResidentRecord | None, change: RecordChange) -> bool:
    if before is None or change.reason in _ALWAYS_SENT:
        return True
    return any(
        name in change.fields and change.fields[name] != getattr(before, name)
        for name in IDENTITY_FIELDS
    )
