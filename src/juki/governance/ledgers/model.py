"""The governance ledgers as the seeds name them: pure records, no I/O.

- 入退室管理簿 (`room_access_log`, seed 001 第12, seed 002 第9条): who entered the server room or
  the media store, when, why, and who gave the prior permission (事前の許可).
- 構成管理簿 (`config_ledger`, seed 001 第14⑸, 様式第1号): the devices, programs and magnetic
  media in use, and every change to them.
- 委託契約 (seed 001 第23–第25, seed 002 第17–第20条): outsourcing contracts with the clauses the
  seeds require, and the audits of the contractor.
- 事故 (seed 001 第19・第22・第26–第30, seed 002 第8条): incidents, each followed through the
  response steps the seeds name for its kind, in order.

The operator cards ledger is a view over the operator records (`juki.security`), kept there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Room(StrEnum):
    SERVER_ROOM = "server_room"  # 電算室・電子計算機室 (サーバー等の設置室)
    MEDIA_STORE = "media_store"  # 磁気ディスク等保管室 (データ・ドキュメントの保管室)


ROOM_JA: Final = MappingProxyType(
    {Room.SERVER_ROOM: "電算室（電子計算機室）", Room.MEDIA_STORE: "磁気ディスク等保管室"}
)


class AccessState(StrEnum):
    PERMITTED = "permitted"  # 許可済み、未入室
    IN_ROOM = "in_room"  # 入室中
    EXITED = "exited"  # 退室済み


ACCESS_STATE_JA: Final = MappingProxyType(
    {
        AccessState.PERMITTED: "許可済み",
        AccessState.IN_ROOM: "入室中",
        AccessState.EXITED: "退室済み",
    }
)


@dataclass(frozen=True, slots=True)
class RoomAccess:
    """One line of the 入退室管理簿: the permission given before (seed 001 第12②: only those
    the 管理者 permitted beforehand may enter), then the entry and the exit as they happen."""

    access_id: int
    room: Room
    entrant_name: str
    entrant_org: str  # 所属 (a contractor's company for an outside person)
    entrant_operator_id: str | None  # 照合ID when the entrant is staff
    purpose: str
    permitted_on: date  # the day the permission is for
    approved_by: str  # 許可者: the operator who permitted it
    approved_at: datetime
    entered_at: datetime | None = None
    entry_recorded_by: str | None = None
    exited_at: datetime | None = None
    exit_recorded_by: str | None = None

    @property
    def state(self) -> AccessState:
        if self.exited_at is not None:
            return AccessState.EXITED
        return AccessState.PERMITTED if self.entered_at is None else AccessState.IN_ROOM


class ConfigKind(StrEnum):
    DEVICE = "device"  # 機器
    PROGRAM = "program"  # プログラム
    MEDIUM = "medium"  # 磁気媒体


CONFIG_KIND_JA: Final = MappingProxyType(
    {ConfigKind.DEVICE: "機器", ConfigKind.PROGRAM: "プログラム", ConfigKind.MEDIUM: "磁気媒体"}
)


class ConfigStatus(StrEnum):
    IN_USE = "in_use"  # 使用中
    REMOVED = "removed"  # 撤去・廃棄


@dataclass(frozen=True, slots=True)
class ConfigItem:
    """One row of 住基ネット構成管理簿 (様式第1号): what it is, its version, where it is."""

    item_id: int
    kind: ConfigKind
    name: str  # 名称
    model: str  # 型式・製品名
    version: str  # 版数
    serial: str  # 製造番号・識別番号 ("" when none)
    location: str  # 設置・保管場所
    status: ConfigStatus
    registered_at: datetime
    updated_at: datetime

    def changed(self, values: dict[str, str], at: datetime) -> ConfigItem:
        """This item with some of `CONFIG_FIELDS` given new values, updated at `at`."""
        return ConfigItem(
            self.item_id,
            self.kind,
            values.get("name", self.name),
            values.get("model", self.model),
            values.get("version", self.version),
            values.get("serial", self.serial),
            values.get("location", self.location),
            self.status,
            self.registered_at,
            at,
        )


CONFIG_FIELDS: Final = ("name", "model", "version", "serial", "location")
CONFIG_FIELD_JA: Final = MappingProxyType(
    {
        "kind": "種別",
        "name": "名称",
        "model": "型式",
        "version": "版数",
        "serial": "製造番号等",
        "location": "設置場所",
    }
)


class ConfigEvent(StrEnum):
    REGISTERED = "registered"  # 記載
    CHANGED = "changed"  # 変更
    REMOVED = "removed"  # 撤去・廃棄


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """A line of the item's change history (seed 001 第14⑸: 変更が生じた場合は速やかに記録)."""

    item_id: int
    at: datetime
    event: ConfigEvent
    detail: str  # "version: 1.2 → 1.3"
    reason: str
    by_actor: str


@dataclass(frozen=True, slots=True)
class Clause:
    """A clause the outsourcing contract must state, with the articles that require it."""

    code: str
    ja: str
    basis: str


# Seed 001 第24⑴–⑺ and seed 002 第19条⑴–⑸, merged where they name the same duty (第24⑻ "その他
# 必要と認めること" is the municipality's own and is not checked).
CLAUSES: Final = (
    Clause("confidentiality", "秘密保持の義務", "001 第24⑴・002 第19条⑷"),
    Clause("no_subcontracting", "再委託の禁止（又は制限）", "001 第24⑵・002 第19条⑴"),
    Clause(
        "no_other_use",
        "目的外使用及び第三者への提供の禁止",
        "001 第24⑶・002 第19条⑶",
    ),
    Clause(
        "copying_and_disposal",
        "複写・複製、資料の保管・返還及び破棄",
        "001 第24⑷・002 第19条⑵⑶",
    ),
    Clause("incident_reporting", "事故発生時の報告義務", "001 第24⑸・002 第19条⑸"),
    Clause("termination_and_damages", "違反時の契約解除等及び損害賠償", "001 第24⑹"),
    Clause("ownership", "個人情報の帰属及びプログラムの所有権", "001 第24⑺"),
)
CLAUSE_CODES: Final = tuple(c.code for c in CLAUSES)
CLAUSE_BY_CODE: Final = MappingProxyType({c.code: c for c in CLAUSES})


class ContractStatus(StrEnum):
    ACTIVE = "active"  # 有効: every mandatory clause stated
    NON_COMPLIANT = "non_compliant"  # 不備あり: recorded with its missing clauses named
    ENDED = "ended"  # 終了


CONTRACT_STATUS_JA: Final = MappingProxyType(
    {
        ContractStatus.ACTIVE: "有効",
        ContractStatus.NON_COMPLIANT: "記載事項不備",
        ContractStatus.ENDED: "終了",
    }
)


@dataclass(frozen=True, slots=True)
class Contract:
    """An outsourcing contract (委託契約) and the clauses it was checked to state."""

    contract_id: str  # 契約番号
    contractor: str  # 受託者
    subject: str  # 委託内容
    starts_on: date
    ends_on: date
    clauses: frozenset[str]
    status: ContractStatus
    recorded_at: datetime
    recorded_by: str
    ended_on: date | None = None

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(c for c in CLAUSE_CODES if c not in self.clauses)


class AuditResult(StrEnum):
    SATISFACTORY = "satisfactory"  # 適正
    NEEDS_ACTION = "needs_action"  # 要改善


AUDIT_RESULT_JA: Final = MappingProxyType(
    {AuditResult.SATISFACTORY: "適正", AuditResult.NEEDS_ACTION: "要改善"}
)


@dataclass(frozen=True, slots=True)
class ContractAudit:
    """受託者の管理状況の調査 (seed 001 第25, seed 002 第20条)."""

    audit_id: int
    contract_id: str
    audited_on: date
    auditor: str
    result: AuditResult
    findings: str
    recorded_by: str


@dataclass(frozen=True, slots=True)
class Step:
    """A response step as the seed words it, and the article that says it."""

    code: str
    ja: str
    basis: str


class IncidentKind(StrEnum):
    INTRUSION = "intrusion"  # 不正アクセス行為 (001 第22)
    VIRUS = "virus"  # ウイルス感染 (001 第19)
    FAILURE = "failure"  # システム障害 (001 第26・第27)
    DISASTER = "disaster"  # 災害・緊急事態、火災、地震・落雷 (001 第28–第30)
    LEAK = "leak"  # 本人確認情報の漏えい・不適正な利用 (002 第8条)


INCIDENT_KIND_JA: Final = MappingProxyType(
    {
        IncidentKind.INTRUSION: "不正アクセス行為",
        IncidentKind.VIRUS: "コンピュータウイルス感染",
        IncidentKind.FAILURE: "システム障害",
        IncidentKind.DISASTER: "災害・緊急事態（火災・地震・落雷を含む）",
        IncidentKind.LEAK: "本人確認情報の漏えい・不適正な利用",
    }
)

# Every kind ends with the review the seeds give the security meeting (会議): 対策の見直し.
_REVIEW_001: Final = Step("review", "対策の見直し（住基ネット会議）", "001 第9②⑴")

# The steps of each kind, in the order the seed gives them. Seed 001 第22② and 第27 leave the
# detail to the municipality's manuals (不正アクセス対応マニュアル, 障害対策マニュアル); the
# steps below are the ones the standard itself names.
STEPS: Final = MappingProxyType(
    {
        IncidentKind.INTRUSION: (
            Step("report", "運用管理者から管理者への報告", "001 第22③"),
            Step("respond", "対応マニュアルに基づく対処", "001 第22②"),
            Step("investigate", "調査（職員の協力）", "001 第21"),
            _REVIEW_001,
        ),
        IncidentKind.VIRUS: (
            Step("disconnect", "ネットワークの接続の遮断", "001 第19③"),
            Step("report", "管理者への感染の経緯の報告", "001 第19③"),
            Step("notify_source", "感染した磁気記録の入手元への連絡", "001 第19③"),
            Step("contain", "運用管理者への連絡と感染の拡大の防止", "001 第19④"),
            _REVIEW_001,
        ),
        IncidentKind.FAILURE: (
            Step("respond", "障害対策マニュアルの作業手順による対処", "001 第27"),
            Step("maintain", "管理者の指示に基づく保守作業", "001 第26"),
            _REVIEW_001,
        ),
        IncidentKind.DISASTER: (
            Step("contact", "管理者への直ちの連絡", "001 第28"),
            Step("shutdown", "システムの終了及び端末装置の電源の切断", "001 第30①"),
            Step("damage_report", "被害の状況の管理者への報告", "001 第29②・第30②"),
            Step("respond", "管理者の指示による対処", "001 第28"),
            _REVIEW_001,
        ),
        IncidentKind.LEAK: (
            Step("request_report", "国・機構等への報告の求め", "002 第8条①"),
            Step("investigate", "必要な調査", "002 第8条①"),
            Step("protect", "市民の個人情報の保護に必要な措置", "002 第8条②"),
            Step("review", "セキュリティ対策の見直し（セキュリティ会議）", "002 第6条③⑴"),
        ),
    }
)


class IncidentStatus(StrEnum):
    OPEN = "open"  # 対応中
    CLOSED = "closed"  # 終結


@dataclass(frozen=True, slots=True)
class StepDone:
    step: str
    done_at: datetime
    by_actor: str
    note: str  # what was done (or why the step did not apply)


@dataclass(frozen=True, slots=True)
class Incident:
    incident_id: int
    kind: IncidentKind
    title: str
    occurred_at: datetime
    opened_at: datetime
    opened_by: str
    status: IncidentStatus
    steps: tuple[StepDone, ...] = ()
    closed_at: datetime | None = None
    closed_by: str | None = None
    closing_note: str = ""

    @property
    def open_steps(self) -> tuple[Step, ...]:
        done = {s.step for s in self.steps}
        return tuple(s for s in STEPS[self.kind] if s.code not in done)

    @property
    def next_step(self) -> Step | None:
        left = self.open_steps
        return left[0] if left else None


@dataclass(frozen=True, slots=True)
class CardHolding:
    """A line of the operator cards ledger: an operator, their 操作者ID and standing, and the
    操作識別カード and 照合情報 they hold (a view over `juki.security`'s records)."""

    operator_id: str
    display_name: str
    role: str
    status: str
    card_label: str | None
    card_issued_at: str | None
    card_issued_by: str | None
    cards_returned: int  # cards issued to them before and taken back (回収)
    verifiers: int  # 照合情報 enrolled and not withdrawn


@dataclass(frozen=True, slots=True)
class LedgerSummary:
    """What a transparency report says of the ledgers over a period (counts only, no names)."""

    since: date
    until: date
    room_entries: int
    still_in_room: int
    config_in_use: dict[str, int]  # items in use, by kind
    config_changes: int
    contracts_active: int
    contracts_non_compliant: int
    contract_audits: int
    audits_needing_action: int
    incidents_opened: int
    incidents_closed: int
    incidents_open: int
