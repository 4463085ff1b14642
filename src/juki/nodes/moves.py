"""What a municipality's CS checks when another municipality tells it of a move: a move-in
notice (転入通知) for a resident who moved out, and a withdrawn card-based move-out (転出取消).

Each is taken only from the municipality entitled to send it, and only for what this
municipality holds; otherwise it is refused (`NotAuthorised`) or made a dead letter with the
rule it broke (`DomainRuleError`), both recorded and seen at the sending counter.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Final

import sqlalchemy as sa
import structlog

from juki.core.errors import DomainRuleError
from juki.network.authority import NotAuthorised
from juki.network.directory import Directory
from juki.network.messages import MoveInNotice, MoveInNoticeV1, MoveOutWithdrawn
from juki.registry.model import ChangeReason
from juki.registry.store.journal import held_move_out_infos, withdraw_move_out_info
from juki.registry.tables import resident_records

log = structlog.get_logger("juki.nodes.moves")

FOUR_ITEMS_JA: Final = {
    "family_name": "氏",
    "given_name": "名",
    "birth_date": "出生の年月日",
    "sex": "男女の別",
    "address": "転出前の住所",
}


def check_move_in_notice(
    conn: sa.Connection,
    directory: Directory,
    sender: str,
    notice: MoveInNotice | MoveInNoticeV1,
) -> None:
    """A move-in notice is taken only from the destination the move-out recorded (the
    転出届's 転出先), and only for the person the record names: its four items must agree
    with the record, or the notice is refused with the items that disagree (a dead letter
    with rule `four_items_mismatch`, kept here and answered to the sender)."""
    r = resident_records.c
    planned = conn.execute(
        sa.select(
            r.record_id,
            r.removed_on,
            r.move_out_planned_address,
            r.family_name,
            r.given_name,
            r.birth_date,
            r.sex,
            r.address,
        ).where(
            (r.resident_code == notice.resident_code)
            & (r.removal_reason == ChangeReason.MOVE_OUT_PLANNED.value)
        )
    ).all()
    if not planned:
        return  # nothing to confirm: the service says so, as a dead letter
    # the move-out the notice would confirm, as `confirm_move_out` picks it: the latest. An
    # earlier one (confirmed, the person came back under the same code) authorises no one now.
    row = max(planned, key=lambda p: (p.removed_on or date.min, p.record_id))
    if row.move_out_planned_address is None:
        return
    destination = directory.municipality_at(row.move_out_planned_address)
    if getattr(destination, "node_id", None) != sender:
        raise NotAuthorised(f"{sender} is not the destination the move-out recorded")
    if isinstance(notice, MoveInNoticeV1):
        log.warning("move-in notice without the four items", sender=sender)
        return
    told = {
        "family_name": notice.family_name,
        "given_name": notice.given_name,
        "birth_date": notice.birth_date,
        "sex": notice.sex,
        "address": notice.previous_address,
    }
    differ = [k for k, v in told.items() if getattr(row, k) != v]
    if not differ:
        return
    raise DomainRuleError(
        "four_items",
        "four_items_mismatch",
        f"the notice's {', '.join(differ)} disagree with the record",
        f"転入通知の{'、'.join(FOUR_ITEMS_JA[k] for k in differ)}が住民票と一致しません",
    )


def withdraw_move_out(conn: sa.Connection, sender: str, withdrawal: MoveOutWithdrawn) -> None:
    """転出取消 of a card-based move: the 転出証明書情報 held from the sender is withdrawn,
    so a 特例転入 on it is refused. Only the municipality that sent it may withdraw it
    (information held from another one only: refused and recorded); with nothing held
    there is nothing to withdraw, and withdrawn again it keeps the first date. Information a
    move-in already took cannot be withdrawn: a dead letter (`move_out_info_used`) both
    counters see."""
    held = held_move_out_infos(conn, withdrawal.resident_code)
    ours = [h for h in held if h["from_lg_code"] == sender]
    if not ours:
        if held:
            raise NotAuthorised(f"{sender} sent no move-out information for this person")
        log.info("move-out withdrawn with no information held", sender=sender)
        return
    info = json.loads(ours[0]["body"])
    if info.get("planned_on") != withdrawal.planned_on.isoformat():
        raise DomainRuleError(
            "planned_on",
            "move_out_info_differs",
            "the withdrawn move-out is not the one whose information is held",
            "取り消された転出届の転出予定日が、受け取った転出証明書情報と一致しません",
        )
    if ours[0]["used_at"] is not None:
        raise DomainRuleError(
            "resident_code",
            "move_out_info_used",
            "a card-based move-in was already recorded on this move-out information",
            "この転出証明書情報で既に転入届の特例を受け付けています。転出元と調整してください",
        )
    if ours[0]["withdrawn_on"] is not None:  # withdrawn already: the first date stands
        log.info("move-out withdrawn again", sender=sender, first=str(ours[0]["withdrawn_on"]))
        return
    withdraw_move_out_info(conn, withdrawal.resident_code, sender, withdrawal.withdrawn_on)
