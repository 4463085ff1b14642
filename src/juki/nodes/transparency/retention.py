"""How long each table's rows are kept: one declared home, read by the transparency report.

A table is kept until someone deletes it unless juki itself deletes or replaces its rows; every
table juki deletes from is declared here with the rule the code applies, and
`tests/unit/nodes/transparency/test_retention.py` fails when a `.delete()` appears on a table
that is not (so "kept without limit" in the report is a fact about the code, not a guess).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from juki.nodes.oplog_archive import RETENTION_YEARS


@dataclass(frozen=True, slots=True)
class Retention:
    ja: str
    source: str  # the code that applies it


KEPT_WITHOUT_LIMIT: Final = Retention(
    "期限なし（juki に削除処理はない。削除は運用の判断）", "(no deletion in juki)"
)

RETENTION: Final = MappingProxyType(
    {
        "oplog": Retention(
            f"{RETENTION_YEARS}年（封緘した月を、{RETENTION_YEARS}年を過ぎてから"
            " juki oplog prune で削除）",
            "juki.nodes.oplog_archive.RETENTION_YEARS",
        ),
        "identity_copies": Retention(
            "最新の1件のみ（異動のたびに置き換え、全件再送で消えた者は削除。"
            "経過は identity_changes）",
            "juki.nodes.identity.apply_identity",
        ),
        "fuhyo_identity_copies": Retention(
            "最新の1件のみ（変更のたびに置き換え。経過は fuhyo_identity_changes）",
            "juki.nodes.fuhyo_link",
        ),
        "edit_locks": Retention(
            "編集の間だけ（本登録・差戻し・取下げで削除）", "juki.registry.review.store"
        ),
        "code_pool": Retention("払い出すまで（払い出しで削除）", "juki.registry.store.codes"),
        "move_out_infos": Retention("転入の処理まで（処理で削除）", "juki.registry.store.journal"),
        "operator_challenges": Retention(
            "認証の手続の間だけ（古いものは削除）", "juki.security.verification.store"
        ),
    }
)


def retention_of(table: str) -> Retention:
    return RETENTION.get(table, KEPT_WITHOUT_LIMIT)
