"""What the Nagano report says each dangerous layout is, and what to do about it.

The cases are those of seed 000 §2.4.2–§2.4.7; the remedies are the safe layout of §2.4.1
(①–⑥) and the measures each case names. Seed 001 第11 is the Inagi standard's rule that the
juki network be independent of other systems and that terminals not be shared.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    en: str
    ja: str


CASES: dict[int, Text] = {
    1: Text(
        "core and the intranet joined by a firewall, router or VLAN switch (§2.4.2)",
        "基幹系ネットと情報系の庁内イントラネット間が F/W・ルータ・VLAN 機能付スイッチで接続さ"
        "れている（§2.4.2）",
    ),
    2: Text(
        "no distinction between core and intranet: a PC reaches both the Internet and the "
        "registry server (§2.4.3)",
        "基幹系と情報系の区別がなく、同じパソコンからインターネットにも住基サーバにもアクセスで"
        "きる（§2.4.3）",
    ),
    3: Text(
        "core and the intranet joined by a layer-3 switch that the Internet reaches through "
        "a firewall (§2.4.4)",
        "基幹系と情報系がレイヤ3スイッチで接続され、インターネットから F/W を介してそのスイッチ"
        "に到達できる（§2.4.4）",
    ),
    4: Text(
        "dial-up into the core from a branch office without caller-number check (§2.4.5)",
        "出先機関から基幹系へのダイアルアップで発信元を電話番号でチェックしていない（§2.4.5）",
    ),
    5: Text(
        "a vendor can connect to the office LAN at any time by dial-up or leased line (§2.4.6)",
        "委託業者からダイアルアップ又は専用線で庁内 LAN に常時接続できる（§2.4.6）",
    ),
    6: Text(
        "a free port on a core hub that leads to the juki network: a brought-in PC can be "
        "plugged in (§2.4.7)",
        "住基ネットに繋がる基幹系 HUB に空きポートがあり、持ち込んだパソコンを接続できる（§2.4.7）",
    ),
}

REMEDIES: dict[int | str, Text] = {
    1: Text(
        "Separate the intranet physically from the core network (§2.4.1 ⑥); connect the core "
        "to the juki network only through a firewall that opens the registry server ↔ CS "
        "passage and nothing else (§2.4.1 ①).",
        "情報系の庁内イントラネットを基幹系ネットから物理的に分離する（§2.4.1 ⑥）。基幹系は F/W "
        "を介してのみ住基ネットワークと接続し、"
        "その F/W では既存住基サーバと住基 CS サーバ間の通路だけを開ける（§2.4.1 ①）。",
    ),
    2: Text(
        "Divide the office LAN into the four segments: core, intranet, public (DMZ) and juki "
        "(§2.4.1); no PC on the core may reach the Internet; put a firewall at the Internet "
        "boundary (§2.4.1 ④).",
        "庁内 LAN を基幹系・情報系・公開系（DMZ）・住基の四つのセグメントに分ける（§2.4.1）。基"
        "幹系のパソコンから"
        "インターネットに出られないようにし、インターネットとの境界に F/W を置く（§2.4.1 ④）。",
    ),
    3: Text(
        "Do not let the Internet-facing firewall reach the layer-3 switch that carries the "
        "core; put public servers in a DMZ (§2.4.1 ⑤) and separate the intranet physically "
        "from the core (§2.4.1 ⑥).",
        "インターネット側の F/W から基幹系を収容するレイヤ3スイッチに到達できないようにする。公"
        "開系サーバは DMZ に置き"
        "（§2.4.1 ⑤）、庁内イントラネットは基幹系と物理的に分離する（§2.4.1 ⑥）。",
    ),
    4: Text(
        "Require caller-number checking on dial-up (ISDN 発信者番号チェック), accept calls only "
        "from registered numbers, replace analogue modems with ISDN, and check the connection "
        "logs regularly (§2.4.5).",
        "ダイアルアップには発信者番号チェックを必須とし、登録された電話番号からのみ着信させる。"
        "アナログモデムは早急に ISDN に"
        "変更し、接続ログを常に確認する（§2.4.5）。",
    ),
    5: Text(
        "Limit the vendor's line to the vendor by caller-number check or call-back, and make it "
        "connectable only when the municipality permits, not always on (§2.4.6).",
        "委託業者の回線は発信者番号チェック又はコールバックで相手を限定し、常時接続可能とせず市"
        "町村が許可した場合のみ接続"
        "可能とする（§2.4.6）。",
    ),
    6: Text(
        "Close (disable) the free ports of the hubs and switches of the core and juki networks "
        "and forbid bringing in personal PCs (§2.4.7).",
        "基幹系・住基ネットワークの HUB やスイッチの空きポートを閉塞し、個人のパソコンの持込み"
        "を禁止する（§2.4.7）。",
    ),
    "boundary": Text(
        "Put a firewall at the Internet boundary and let the Internet reach only the public "
        "servers in the DMZ (§2.4.1 ④⑤); the core must not be reachable from the Internet.",
        "インターネットとの境界に F/W を置き、インターネットからのアクセス先を DMZ 上の公開サー"
        "バだけに限定する"
        "（§2.4.1 ④⑤）。基幹系にインターネットから到達できないようにする。",
    ),
    "independent": Text(
        "Keep the juki network independent of other systems and do not share terminals (seed "
        "001 第11): put the CS and its terminals in the juki segment (§2.4.1 ②) and connect "
        "other networks only through a firewall (§2.4.1 ①).",
        "住基ネットは他の電子計算組織から独立したネットワークとし、端末装置は共用しない（稲城市"
        "基準 第11）。CS サーバと CS "
        "端末は住基ネットワーク内に置き（§2.4.1 ②）、他のネットワークとは F/W を介してのみ接続"
        "する（§2.4.1 ①）。",
    ),
}
