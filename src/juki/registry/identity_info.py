"""本人確認情報: the only personal data that ever leaves the municipality (seed 001 第8).

A record's identity_info is built as the network's own message body (`IdentityInfoBody`), so
nothing else of a record can be put in a message: the schema admits these fields alone.
"""

from __future__ import annotations

from typing import Final

from juki.network.messages import IdentityInfoBody
from juki.registry.model import ChangeReason, RecordChange, ResidentRecord

# The record's fields that identity_info carries (the rest of the body is the municipality and
# the change information: why and when it last changed).
IDENTITY_FIELDS: Final = tuple(
    name
    for name in IdentityInfoBody.model_fields
    if name not in ("lg_code", "change_reason", "changed_on")
)


def identity_info_of(record: ResidentRecord, change: RecordChange) -> IdentityInfoBody:
    return IdentityInfoBody(
        resident_code=record.resident_code,
        my_number=record.my_number,
        family_name=record.family_name,
        given_name=record.given_name,
        family_name_kana=record.family_name_kana,
        given_name_kana=record.given_name_kana,
        former_surname=record.former_surname,
        former_surname_kana=record.former_surname_kana,
        alias_name=record.alias_name,
        alias_name_kana=record.alias_name_kana,
        birth_date=record.birth_date,
        sex=record.sex.value,
        address=record.address,
        status=record.status.value,
        lg_code=record.lg_code,
        change_reason=change.reason.value,
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
