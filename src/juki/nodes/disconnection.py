"""離脱 as a decision: a municipality or prefecture leaves the network for a while, on its own
authority, and says who decided, why, and when it ended.

Seed 000 (長野県本人確認情報保護審議会, 4.6–4.7) reads the temporary disconnection as the mayor's or
governor's 「必要な措置」 for the 適切な管理 of the data (住基法 第36条の2第1項; for the
prefecture 第30条の29第1項, as the seed numbers it): not a fault, a decision of the body that holds
the data, whose length depends on what it found wrong. So a disconnection is recorded as one:
the body (this node's own, from the signed directory — a node records only its own decision),
the office or official who decided, the legal basis, the reason (required), who recorded it,
and its start and end. The network behaviour is unchanged (`Node.set_disconnected`: traffic
waits in the outboxes and drains on reconnection); the decision is written in the same
transaction as the flag and the oplog entry, so none exists without the others.

Only a role holding `decide_disconnection` may do either (the node's 運用管理者 through its
admin token, or the 統括者); a refusal is in the oplog as `denied`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any, Final

import sqlalchemy as sa

from juki.core.errors import RuleViolation
from juki.network.directory import NodeKind
from juki.nodes.node import Node
from juki.nodes.tables import disconnection_decisions
from juki.security.actors import Actor
from juki.security.permissions import Permission, authorize, is_allowed

dd = disconnection_decisions.c

# The article each kind of body decides under (docs/law.md, "離脱").
LEGAL_BASIS: Final = MappingProxyType(
    {
        NodeKind.MUNICIPALITY: "住民基本台帳法 第36条の2第1項（市町村長による必要な措置）",
        NodeKind.PREFECTURE: "住民基本台帳法 第30条の29第1項（都道府県知事による必要な措置）",
    }
)
MAX_DECIDED_BY: Final = 100
MAX_REASON: Final = 500
MAX_OPERATOR: Final = 64
LABELS_JA: Final = MappingProxyType(
    {"decided_by": "決定者", "reason": "理由", "end_note": "再接続の理由", "operator": "操作者"}
)


@dataclass(frozen=True, slots=True)
class DisconnectionDecision:
    decision_id: int
    node_id: str
    body_kind: str
    body_name: str
    decided_by: str
    legal_basis: str
    reason: str
    recorded_by: str
    started_at: str
    ended_at: str | None = None
    ended_by: str | None = None
    end_note: str | None = None

    @property
    def in_force(self) -> bool:
        return self.ended_at is None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# -- the rules (pure) ----------------------------------------------------------------------------


def check_text(field: str, value: str, max_len: int) -> str:
    """A stated text: 1 to `max_len` characters once trimmed, no control or format character."""
    text = value.strip()
    label = LABELS_JA.get(field, field)
    if not text:
        raise RuleViolation(
            field, "required", f"{field}: required", f"{label}を入力してください（必須）"
        )
    if len(text) > max_len:
        raise RuleViolation(
            field,
            "length",
            f"{field}: at most {max_len} characters",
            f"{label}は{max_len}文字以内で入力してください",
        )
    bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Cn")), None)
    if bad is not None:
        raise RuleViolation(
            field,
            "control_character",
            f"{field}: no control or format characters (U+{ord(bad):04X})",
            f"{label}に制御文字は使えません",
        )
    return text


def legal_basis(kind: NodeKind) -> str:
    """The article a body of this kind disconnects under; the national node does not."""
    basis = LEGAL_BASIS.get(kind)
    if basis is None:
        raise RuleViolation(
            "node",
            "national_cannot_disconnect",
            "the national node does not disconnect: 離脱 is a municipality's or prefecture's",
            "全国サーバは離脱できません（離脱は市町村・都道府県の判断です）",
        )
    return basis


def recorder(by: Actor, operator: str | None) -> str:
    """Who recorded it: the actor, and the person at the console when the caller says so."""
    if operator is None:
        return by.actor_id
    return f"{by.actor_id} ({check_text('operator', operator, MAX_OPERATOR)})"


# -- reading ----------------------------------------------------------------------------------


def _decision(row: sa.RowMapping) -> DisconnectionDecision:
    return DisconnectionDecision(**{k: row[k] for k in DisconnectionDecision.__slots__})


def decisions_in(conn: sa.Connection) -> list[DisconnectionDecision]:
    """Every decision this node's database holds, oldest first."""
    rows = conn.execute(sa.select(disconnection_decisions).order_by(dd.decision_id)).mappings()
    return [_decision(r) for r in rows]


def decision_in_force(conn: sa.Connection) -> DisconnectionDecision | None:
    row = (
        conn.execute(
            sa.select(disconnection_decisions)
            .where(dd.ended_at.is_(None))
            .order_by(dd.decision_id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return _decision(row) if row is not None else None


# -- the actions --------------------------------------------------------------------------------


def _authorised(node: Node, by: Actor, action: str) -> None:
    """Refuse, and say so in the oplog, anyone who may not decide a disconnection."""
    if not is_allowed(by.role, Permission.DECIDE_DISCONNECTION):
        with node.engine.begin() as conn:
            node.log_operation(
                conn, by, action, node.node_id, "denied", Permission.DECIDE_DISCONNECTION.value
            )
    authorize(by.actor_id, by.role, Permission.DECIDE_DISCONNECTION)


def decide_disconnection(
    node: Node, by: Actor, *, decided_by: str, reason: str, operator: str | None = None
) -> DisconnectionDecision:
    """離脱: record the decision, set the flag and log it, in one transaction."""
    _authorised(node, by, "disconnect_node")
    decider = check_text("decided_by", decided_by, MAX_DECIDED_BY)
    why = check_text("reason", reason, MAX_REASON)
    basis = legal_basis(node.kind)
    recorded = recorder(by, operator)
    entry = node.directory().require(node.node_id)
    made: list[int] = []

    def record(conn: sa.Connection) -> str:
        if decision_in_force(conn) is not None:
            raise RuleViolation(
                "node",
                "already_disconnected",
                f"{node.node_id} is already disconnected by a decision in force",
                "既に離脱中です（決定が継続しています）",
            )
        result = conn.execute(
            disconnection_decisions.insert().values(
                node_id=node.node_id,
                body_kind=node.kind.value,
                body_name=entry.name,
                decided_by=decider,
                legal_basis=basis,
                reason=why,
                recorded_by=recorded,
                started_at=node.clock.now().isoformat(),
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # an insert of one row
        made.append(int(key[0]))
        return f"decision {made[0]}: {decider}: {why}"

    node.set_disconnected(True, by, record)
    return _read_back(node, made[0])


def end_disconnection(
    node: Node, by: Actor, *, note: str | None = None, operator: str | None = None
) -> DisconnectionDecision | None:
    """Back on the network: the decision in force ends now (None when the node was not
    disconnected by one, e.g. before decisions were recorded); the flag and the oplog too."""
    _authorised(node, by, "reconnect_node")
    said = check_text("end_note", note, MAX_REASON) if note is not None else None
    recorded = recorder(by, operator)
    ended: list[int] = []

    def record(conn: sa.Connection) -> str:
        current = decision_in_force(conn)
        if current is None:
            return "no decision in force"
        conn.execute(
            disconnection_decisions.update()
            .where(dd.decision_id == current.decision_id)
            .values(ended_at=node.clock.now().isoformat(), ended_by=recorded, end_note=said)
        )
        ended.append(current.decision_id)
        return f"decision {current.decision_id} ended" + (f": {said}" if said else "")

    node.set_disconnected(False, by, record)
    return _read_back(node, ended[0]) if ended else None


def _read_back(node: Node, decision_id: int) -> DisconnectionDecision:
    with node.engine.connect() as conn:
        query = sa.select(disconnection_decisions).where(dd.decision_id == decision_id)
        return _decision(conn.execute(query).mappings().one())
