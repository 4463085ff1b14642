""" "Kept without limit" in the transparency report is a fact about the code: every table juki
deletes rows from declares its retention (`nodes.transparency.retention.RETENTION`)."""

from __future__ import annotations

import re
from pathlib import Path

import juki
from juki.nodes.oplog_archive import RETENTION_YEARS
from juki.nodes.transparency.retention import KEPT_WITHOUT_LIMIT, RETENTION, retention_of
from juki.storage.metadata import metadata

SRC = Path(juki.__file__).parent
DELETE = re.compile(r"\b([a-z_]+)\.delete\(\)")


def test_every_table_juki_deletes_from_declares_its_retention() -> None:
    deleted = {
        name
        for path in SRC.rglob("*.py")
        for name in DELETE.findall(path.read_text(encoding="utf-8"))
        if name in metadata.tables
    }
    assert "oplog" in deleted and "identity_copies" in deleted  # the scan finds them
    assert deleted <= set(RETENTION), deleted - set(RETENTION)
    assert set(RETENTION) <= set(metadata.tables)


def test_the_oplog_retention_is_the_pruning_rule() -> None:
    assert f"{RETENTION_YEARS}年" in retention_of("oplog").ja
    assert retention_of("kiosk_issuances") is KEPT_WITHOUT_LIMIT
