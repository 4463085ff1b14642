"""The registry's JSON API for terminals: search and read records, file life events, seals.

Routes only translate: a request model becomes a command dataclass (in one place per route),
the service authorises, changes, logs and commits, and its result becomes a response model.
Services are synchronous, so routes are plain `def` and run in FastAPI's threadpool; each
request gets its own unit of work. The app that serves them is built by the composition
(`juki.nodes.apps.create_registry_app`), beside the certificate screens.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from fastapi import APIRouter

from juki.registry.api.aliases import alias_router
from juki.registry.api.cancellation import cancellation_router, standing_router
from juki.registry.api.codes import code_router
from juki.registry.api.events import event_router
from juki.registry.api.reads import health_router, read_router
from juki.registry.api.review import review_router
from juki.registry.api.seals import seal_router
from juki.registry.api.support_measures import support_router

DESCRIPTION: Final = """\
The municipal resident registry (住民基本台帳) of one municipality, for counter terminals:
search and read resident records, households and their change history; file life events
(birth, death, move-in, move-out and its withdrawal, relocation, household changes, actions by
authority, the cancellation of a change, a foreign resident's 通称 and its deletion, a
resident's request for a new resident code with its 住民票コード通知);
register and abolish seals; record and manage 支援措置 (support measures for victims).

When the municipality reviews changes (the default), a life event, an action by authority, a
cancellation (転出取消, 異動取消) or a 通称 filed by an operator is answered 202 with a
provisional change (仮登録): it is applied, reaches certificates and leaves through the CS only
when a supervisor other than that operator approves it (`/provisional-changes/{id}/approval`);
a rejection keeps its reason. An edit lock refuses another operator's change to the same
resident meanwhile (409 `edit_locked`).

Every call but `/health` needs an operator's bearer token; an optional `X-Juki-Terminal`
header names the terminal. Every authenticated, well-formed call is written to the operation
log, whether the registry allowed, refused or rejected it. Errors: 422 uses FastAPI's
validation shape (`loc` = where the field is in the request, `type` = rule, `msg`) plus
`msg_ja`; 401/403/404/409 return `detail`, `type` and `msg_ja`.

**概要（日本語）**: 住民基本台帳の統合端末向けAPIです。住民票・世帯・異動履歴の検索と照会、
出生・死亡・転入・転出・転居・世帯変更・職権記載等の異動届の記録、印鑑登録と廃止を行います。
`/health` 以外は操作者の認証（Bearerトークン）が必要です。
操作は拒否されたものも含め操作履歴に記録されます。
入力誤りは項目名と規則名を付けて返し、何も変更しません。
"""

TAGS: Final = [
    {"name": "health", "description": "Liveness for load balancers (死活監視)."},
    {"name": "residents", "description": "Search and read resident records (住民票の検索・照会)."},
    {"name": "households", "description": "Households and their members (世帯)."},
    {"name": "stats", "description": "Registry counts (統計)."},
    {"name": "events", "description": "Life events and actions by authority (異動届・職権)."},
    {
        "name": "review",
        "description": "Provisional changes and their review (仮登録・審査・本登録): an "
        "operator's change waits until a supervisor other than the operator approves it.",
    },
    {"name": "seals", "description": "Seal registration (印鑑登録)."},
    {
        "name": "support-measures",
        "description": "Support measures for victims of DV, stalking and abuse (支援措置).",
    },
]


def routers() -> list[APIRouter]:
    """The registry API's routers, built once per process: they hold no state of their own (each
    route reads the app's state), and building one costs as much as including it (FastAPI
    prepares every route's models twice: in the router, then again in the app)."""
    return list(_routers())


@cache
def _routers() -> tuple[APIRouter, ...]:
    return (
        health_router(),
        read_router(),
        standing_router(),
        event_router(),
        review_router(),
        cancellation_router(),
        alias_router(),
        code_router(),
        seal_router(),
        support_router(),
    )
