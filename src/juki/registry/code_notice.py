"""住民票コード通知 (法第30条の3第3項, 第30条の4第3項で準用): the written notice a resident is given
when a new resident code is recorded on their 住民票 — here after a 住民票コードの変更請求.

Pure: what the printed notice says, built from the record and the municipality. Like the other
notices (本人通知, `juki.certificates.self_notice`), it is text the counter prints and hands
over or posts; it names the new code, never the former one (that one is retired).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from juki.core.era import to_wareki
from juki.registry.model import Municipality, ResidentRecord


@dataclass(frozen=True, slots=True)
class ResidentCodeNotice:
    recipient_name: str
    recipient_address: str
    resident_code: str
    recorded_on: date
    signatory: str  # 市区町村長の職名と氏名

    @classmethod
    def of(cls, record: ResidentRecord, m: Municipality, recorded_on: date) -> ResidentCodeNotice:
        return cls(
            recipient_name=record.full_name,
            recipient_address=record.address,
            resident_code=record.resident_code,
            recorded_on=recorded_on,
            signatory=m.signatory,
        )

    @property
    def grouped_code(self) -> str:
        """Easier to copy by hand: 4-4-3 digits (the last is the check digit)."""
        c = self.resident_code
        return f"{c[:4]} {c[4:8]} {c[8:]}"

    @property
    def text_ja(self) -> str:
        """The body of the printed notice."""
        return "\n".join(
            (
                "住民票コード通知書",
                "",
                f"{self.recipient_address}",
                f"{self.recipient_name}様",
                "",
                f"{to_wareki(self.recorded_on)}、住民票コードの変更の請求により、あなたの住民票に"
                "新しい住民票コードを記載しましたので、住民基本台帳法第30条の4第3項において準用する"
                "第30条の3第3項の規定により通知します。",
                "",
                f"住民票コード　{self.grouped_code}",
                "",
                "変更前の住民票コードは今後使用できません。",
                "住民票コードは、法令で定める事務以外に利用されることはありません。",
                "",
                f"{to_wareki(self.recorded_on)}",
                f"{self.signatory}",
            )
        )
