"""附票連携 between node processes, over HTTPS with mutual TLS: a person whose 本籍 is in
藤沢市 arrives in 稲城市 from abroad and leaves for abroad again; 稲城市 notifies 藤沢市
(附票記載事項通知), and 藤沢市 — not 稲城市 — sends the 附票本人確認情報 up to 神奈川県 and
national, where the 国外転出 is kept with its country; the operators' `juki network check`
compares those copies too; provision finds her abroad through them for a task that may use
the 附票 (住基法30条の44の6), and for no other. Uses the package's one small network (its
conftest) and leaves the levels in agreement."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from juki.cli import main
from juki.core.clock import JST
from juki.nodes.console import Console
from juki.nodes.fuhyo_lookup import fuhyo_identity_by_code
from support.small_network import FUJISAWA, INAGI, SmallNetwork

KANAGAWA, TOKYO = "140007", "130001"
API = "/registry/api/v1"


@pytest.fixture(scope="module")
def console(small_network: SmallNetwork) -> Iterator[Console]:
    console = Console(small_network.files)
    try:
        assert console.wait_quiet(90.0)
        yield console
    finally:
        console.close()


def _api(
    console: Console, tokens: dict[str, str], path: str, body: dict[str, Any]
) -> httpx.Response:
    return console.client.post(
        console.node(INAGI).endpoint + API + path,
        json=body,
        headers={"Authorization": f"Bearer {tokens[INAGI]}", "X-Juki-Terminal": "E2E"},
    )


def _held(small_network: SmallNetwork, node_id: str, code: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(f"sqlite:///{small_network.files.root / node_id}/node.db")
    try:
        with engine.connect() as conn:
            return fuhyo_identity_by_code(conn, code)
    finally:
        engine.dispose()


def test_the_honseki_municipality_sends_its_fuhyo_up_and_a_move_abroad_keeps_its_country(
    small_network: SmallNetwork, console: Console, tmp_path: Path
) -> None:
    today = datetime.now(JST).date().isoformat()
    tokens = small_network.supervisors
    arrived = _api(
        console,
        tokens,
        "/events/move-in",
        {
            "person": {
                "family_name": "附票",
                "given_name": "連子",
                "family_name_kana": "フヒョウ",
                "given_name_kana": "レンコ",
                "birth_date": "1979-02-03",
                "sex": "female",
                "honseki": "神奈川県藤沢市辻堂元町1番地",
                "koseki_head": "附票　一郎",
            },
            "origin": "abroad",
            "address": "東京都稲城市東長沼7番地",
            "moved_on": today,
            "notified_on": today,
            "previous_address": "ドイツ連邦共和国",
            "placement": {"kind": "new_household"},
        },
    )
    assert arrived.status_code == 201, arrived.text
    record = arrived.json()
    left = _api(
        console,
        tokens,
        "/events/move-out",
        {
            "record_ids": [record["record_id"]],
            "destination_address": "ブラジル連邦共和国",
            "planned_on": today,
            "notified_on": today,
            "abroad": True,
        },
    )
    assert left.status_code == 201, left.text
    assert console.wait_quiet(90.0), console.statuses()

    code = record["resident_code"]
    (at_kanagawa,) = _held(small_network, KANAGAWA, code)
    assert (at_kanagawa["lg_code"], at_kanagawa["moved_abroad"]) == (FUJISAWA, True)
    assert at_kanagawa["abroad_country"] == "ブラジル連邦共和国"
    assert _held(small_network, "national", code) == [at_kanagawa]
    assert _held(small_network, TOKYO, code) == []  # the residence's prefecture keeps no 附票
    digests = console.admin("GET", "national", "/fuhyo-digests")
    assert any(d["lg_code"] == FUJISAWA and d["count"] >= 1 for d in digests)
    assert main(["network", "check", "--dir", str(small_network.files.root)]) == 0

    # provision reaches her abroad only as 住基法30条の44の6 allows: 神奈川県 (her 本籍's
    # prefecture) answers its 旅券 task (別表第五, which the shipped register lets use the 附票)
    # by the four items from the 附票, without the 住民票コード
    query = tmp_path / "query.jsonl"
    query.write_text(
        '{"name_kana": "フヒョウ レンコ", "birth_date": "1979-02-03", "sex": "female"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "answers.jsonl"
    asked = ["provide", "--dir", str(small_network.files.root), "--node", KANAGAWA,
             "--agency", "kanagawa", "--task", "別表第五 の 二", "--purpose", "旅券の発給",
             "--query", str(query), "--out", str(out)]  # fmt: skip
    assert main(asked) == 0
    (answer,) = map(json.loads, out.read_text(encoding="utf-8").splitlines())
    assert answer["source"] == "fuhyo_identity_info"
    assert answer["identity"]["abroad_country"] == "ブラジル連邦共和国"
    assert "resident_code" not in answer["identity"] and "my_number" not in answer["identity"]
    # national's 別表第一 task may not use the 附票: told not_found (as if she were nowhere)
    asked = ["provide", "--dir", str(small_network.files.root), "--agency", "nenkin",
             "--task", "別表第一 の 九十一", "--purpose", "年金給付", "--query", str(query),
             "--out", str(out)]  # fmt: skip
    assert main(asked) == 0
    (answer,) = map(json.loads, out.read_text(encoding="utf-8").splitlines())
    assert answer == {"line": 1, "outcome": "not_found"}
