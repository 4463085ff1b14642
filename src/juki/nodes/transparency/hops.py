"""The hops of each service, declared once: who sends what to whom, over what, and what the
receiver keeps. The transparency report reads this, never prose (seed 004: a council could not
get a straight answer about which hop is encrypted and what is stored where).

Nothing here restates a fact the code already holds. The messages are named by their type and
their fields come from the network's schemas (`network.messages.SCHEMAS`) or the API models;
the protection of a channel, the envelope signature and the end-to-end seal are described from
the constants the transport, `network.pki` and `kiosk.sealing` use; each kept table's columns
and retention come from the metadata and `retention.RETENTION`; memory limits are the code's own
constants. `tests/unit/nodes/transparency/test_hops.py` holds the declarations to the code: each
message type is allowed from the sender's kind to the receiver's by `network.authority`, each
sealed field exists, each kept table exists, the relay keeps no content column, and each `code`
names something importable.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from pydantic import BaseModel

from juki.cards.verify import CHALLENGE_TTL
from juki.certificates.web import WideAreaIssueIn
from juki.kiosk import sealing
from juki.kiosk.machine import EXPIRED_KEPT, IDLE_TIMEOUT
from juki.kiosk.wire import KioskCallIn, RelayAnswerOut
from juki.network import pki
from juki.network.directory import NodeKind
from juki.network.https import MIN_TLS_VERSION
from juki.network.identity_runs import IDENTITY_INFO_CHANGES
from juki.network.kiosk_messages import KIOSK_ANSWER, KIOSK_REQUEST
from juki.network.messages import CURRENT_VERSION, IDENTITY_INFO_CHANGED, SCHEMAS
from juki.network.wide_area_messages import (
    CERTIFICATE_CONTENT_REQUEST,
    CERTIFICATE_CONTENT_RESPONSE,
)
from juki.nodes.kiosk_admission import PATIENCE_S
from juki.nodes.provide_api import ProvisionIn, ProvisionOut
from juki.registry.api.schemas import RelocationIn


class Service(StrEnum):
    COUNTER = "counter"
    WIDE_AREA = "wide_area"
    KIOSK = "kiosk"
    PROVISION = "provision"


SERVICE_JA: Final = MappingProxyType(
    {
        Service.COUNTER: "窓口での異動（転居など）と本人確認情報の更新",
        Service.WIDE_AREA: "広域交付（住所地以外の市区町村での住民票の写し）",
        Service.KIOSK: "コンビニ交付",
        Service.PROVISION: "国の機関等への本人確認情報の提供",
    }
)


class Party(StrEnum):
    TERMINAL = "terminal"
    REGISTRY = "registry"
    CS = "cs"
    CERTIFICATE_SERVER = "certificate_server"
    PREFECTURE = "prefecture"
    NATIONAL = "national"
    RELAY = "relay"
    KIOSK = "kiosk"
    AGENCY = "agency"


PARTY_JA: Final = MappingProxyType(
    {
        Party.TERMINAL: "統合端末（窓口）",
        Party.REGISTRY: "既存住基（市区町村）",
        Party.CS: "CS（市区町村のノード）",
        Party.CERTIFICATE_SERVER: "証明発行サーバ（市区町村のノード）",
        Party.PREFECTURE: "都道府県サーバ",
        Party.NATIONAL: "全国サーバ（機構）",
        Party.RELAY: "証明書交付センター（全国サーバの中継）",
        Party.KIOSK: "コンビニのキオスク端末",
        Party.AGENCY: "国の機関等",
    }
)
# The node kind each party runs in (None: outside the network's nodes).
PARTY_KIND: Final = MappingProxyType(
    {
        Party.TERMINAL: None,
        Party.REGISTRY: NodeKind.MUNICIPALITY,
        Party.CS: NodeKind.MUNICIPALITY,
        Party.CERTIFICATE_SERVER: NodeKind.MUNICIPALITY,
        Party.PREFECTURE: NodeKind.PREFECTURE,
        Party.NATIONAL: NodeKind.NATIONAL,
        Party.RELAY: NodeKind.NATIONAL,
        Party.KIOSK: None,
        Party.AGENCY: None,
    }
)


class Channel(StrEnum):
    NODE_MTLS = "node_mtls"  # network.https.client_ssl_context ⇄ nodes.runner.node_server
    CLIENT_MTLS = "client_mtls"  # a terminal's, store's or agency's client certificate
    SAME_DATABASE = "same_database"  # the registry's outbox, read by its CS in one database


def tls_floor() -> str:
    return {ssl.TLSVersion.TLSv1_2: "TLS 1.2", ssl.TLSVersion.TLSv1_3: "TLS 1.3"}.get(
        MIN_TLS_VERSION, MIN_TLS_VERSION.name
    )


def channel_ja(channel: Channel) -> str:
    """How a hop travels, from the transport's own settings."""
    if channel is Channel.SAME_DATABASE:
        return "ネットワークを通らない（同じノードのデータベース内、同一トランザクション）"
    floor = tls_floor()
    if channel is Channel.NODE_MTLS:
        return (
            f"HTTPS（{floor} 以上）の相互認証: 両端ともネットワークのルート認証局が発行した"
            "証明書を提示し、ルート以外は信頼しない"
        )
    return (
        f"HTTPS（{floor} 以上、ノードのサーバが下限を強制）: ノードでない側（端末・店舗・機関）は"
        "ルート認証局が発行したクライアント証明書を提示"
    )


def signature_ja() -> str:
    """The envelope signature every network message carries (`network.envelope`)."""
    return (
        f"送り手ノードの鍵による署名 ECDSA {pki.CURVE.name} / {pki.SIGNATURE_HASH.name}"
        "（受け手が署名・宛先・鮮度・再送を検証）"
    )


def _named(value: object) -> str:
    """`KEM.X25519` → `X25519` (the HPKE enums have no `.name`)."""
    return str(value).rsplit(".", 1)[-1]


def seal_ja() -> str:
    """The kiosk's end-to-end seal (`kiosk.sealing`)."""
    suite = ", ".join(_named(x) for x in (sealing.KEM, sealing.KDF, sealing.AEAD))
    return f"端から端までの暗号化 HPKE（{suite}）: 中継は復号できない"


@dataclass(frozen=True, slots=True)
class Carried:
    """One thing a hop carries: a network message type or an API body, and its fields."""

    name: str
    model: type[BaseModel]
    sealed: tuple[str, ...] = ()  # fields sealed end to end, opaque to everyone between

    @property
    def is_message(self) -> bool:
        return not self.name.startswith("api:")


def message(message_type: str, *, sealed: tuple[str, ...] = ()) -> Carried:
    return Carried(message_type, SCHEMAS[(message_type, CURRENT_VERSION[message_type])], sealed)


def api(model: type[BaseModel], *, sealed: tuple[str, ...] = ()) -> Carried:
    return Carried(f"api:{model.__module__}.{model.__qualname__}", model, sealed)


@dataclass(frozen=True, slots=True)
class Kept:
    """What the receiver keeps from a hop: a table (its retention is `retention.RETENTION`'s),
    or something held in memory for at most `limit` (the code's constant, named in `source`)."""

    table: str | None = None
    memory_ja: str | None = None
    limit: timedelta | None = None
    source: str = ""
    rule_ja: str = "最長 {limit}"  # how the limit applies; {limit} is the constant's value


def table(name: str) -> Kept:
    return Kept(table=name)


def memory(what_ja: str, limit: timedelta, source: str, rule_ja: str = "最長 {limit}") -> Kept:
    return Kept(memory_ja=what_ja, limit=limit, source=source, rule_ja=rule_ja)


@dataclass(frozen=True, slots=True)
class Hop:
    service: Service
    step: int
    source: Party
    target: Party
    channel: Channel
    carries: tuple[Carried, ...]
    kept: tuple[Kept, ...]
    code: str  # the module or function that makes the hop (checked importable)
    sealed_for_ja: str | None = None  # who alone opens the sealed fields

    @property
    def signed(self) -> bool:
        """Every network message is a signed envelope; API bodies ride on TLS alone."""
        return any(c.is_message for c in self.carries)


K, W, C, P = Service.KIOSK, Service.WIDE_AREA, Service.COUNTER, Service.PROVISION
VISIT: Final = "来店中の内容（カード、要求、証明書PDF、投入金額）。最初の画面に戻ると消去"
HOPS: Final[tuple[Hop, ...]] = (
    # -- 窓口: a 転居 from the counter up to the national index (docs/architecture.md) ----------
    Hop(C, 1, Party.TERMINAL, Party.REGISTRY, Channel.CLIENT_MTLS, (api(RelocationIn),),
        (table("resident_records"), table("record_changes"), table("oplog")),
        "juki.registry.api.events"),
    Hop(C, 2, Party.REGISTRY, Party.CS, Channel.SAME_DATABASE, (message(IDENTITY_INFO_CHANGED),),
        (table("outbox"), table("identity_copies")), "juki.nodes.municipality.MunicipalityNode"),
    Hop(C, 3, Party.CS, Party.PREFECTURE, Channel.NODE_MTLS,
        (message(IDENTITY_INFO_CHANGED), message(IDENTITY_INFO_CHANGES)),
        (table("net_inbox"), table("identity_copies"), table("identity_changes")),
        "juki.network.delivery.DeliveryWorker"),
    Hop(C, 4, Party.PREFECTURE, Party.NATIONAL, Channel.NODE_MTLS,
        (message(IDENTITY_INFO_CHANGED), message(IDENTITY_INFO_CHANGES)),
        (table("net_inbox"), table("identity_copies"), table("identity_changes")),
        "juki.nodes.prefecture.PrefectureNode"),
    # -- 広域交付: B's counter asks A's CS for one applicant's certificate content -------------
    Hop(W, 1, Party.TERMINAL, Party.CS, Channel.CLIENT_MTLS, (api(WideAreaIssueIn),),
        (table("wide_area_requests"), table("oplog")), "juki.certificates.web"),
    Hop(W, 2, Party.CS, Party.CS, Channel.NODE_MTLS, (message(CERTIFICATE_CONTENT_REQUEST),),
        (table("certificate_register"), table("oplog")), "juki.nodes.wide_area"),
    Hop(W, 3, Party.CS, Party.CS, Channel.NODE_MTLS, (message(CERTIFICATE_CONTENT_RESPONSE),),
        (table("certificates"), table("certificate_register"), table("oplog")),
        "juki.nodes.wide_area"),
    # -- コンビニ交付: kiosk → relay → certificate server and back (docs/kiosk.md) ------------
    Hop(K, 1, Party.KIOSK, Party.RELAY, Channel.CLIENT_MTLS,
        (api(KioskCallIn, sealed=("sealed_request",)),),
        (memory("カードに署名させるチャレンジ", CHALLENGE_TTL,
                "juki.cards.verify.CHALLENGE_TTL", "最長 {limit}、1回使えば無効"),
         memory("混雑時の順番待ち（要求IDのみ）", timedelta(seconds=PATIENCE_S),
                "juki.nodes.kiosk_admission.PATIENCE_S", "問い合わせが {limit} 途絶えると消去"),
         table("oplog")),
        "juki.kiosk.http_relay.HttpRelay", "市区町村の証明発行サーバの鍵（キオスク用鍵）"),
    Hop(K, 2, Party.RELAY, Party.CERTIFICATE_SERVER, Channel.NODE_MTLS,
        (message(KIOSK_REQUEST, sealed=("sealed_request",)),),
        (table("kiosk_requests"), table("certificates"), table("certificate_register"),
         table("oplog")),
        "juki.nodes.kiosk_relay.KioskRelay", "市区町村の証明発行サーバの鍵（キオスク用鍵）"),
    Hop(K, 3, Party.CERTIFICATE_SERVER, Party.RELAY, Channel.NODE_MTLS,
        (message(KIOSK_ANSWER, sealed=("sealed_answer",)),),
        (table("kiosk_issuances"), table("oplog")),
        "juki.nodes.kiosk.MunicipalKiosk", "キオスクの来店ごとの一時鍵"),
    Hop(K, 4, Party.RELAY, Party.KIOSK, Channel.CLIENT_MTLS,
        (api(RelayAnswerOut, sealed=("sealed_answer",)),),
        (memory(VISIT, IDLE_TIMEOUT, "juki.kiosk.machine.IDLE_TIMEOUT",
                "操作のないまま {limit} で消去（--idle-seconds で変更可）"),
         memory("時間切れの来店を知らせるためのクッキーのハッシュのみ", EXPIRED_KEPT,
                "juki.kiosk.machine.EXPIRED_KEPT")),
        "juki.nodes.kiosk_api", "キオスクの来店ごとの一時鍵"),
    # -- 本人確認情報の提供: an agency's lookups at national (or its prefecture) --------------
    Hop(P, 1, Party.AGENCY, Party.NATIONAL, Channel.CLIENT_MTLS, (api(ProvisionIn),),
        (table("provision_records"), table("oplog")), "juki.nodes.provide_api"),
    Hop(P, 2, Party.NATIONAL, Party.AGENCY, Channel.CLIENT_MTLS, (api(ProvisionOut),),
        (), "juki.nodes.provide_api"),
)  # fmt: skip


def hops_of(service: Service) -> list[Hop]:
    return sorted((h for h in HOPS if h.service is service), key=lambda h: h.step)
