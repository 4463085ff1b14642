"""Which rule guards every route and every command: the oracle of the permission meta-tests.

Each route of the registry app (its API, the certificate terminal, the verification pages) and
of the node app (network door, service and admin routes), and each leaf command of `juki`, is
listed with the `Permission` its service checks, or with the reason it needs none. A route or
command added without an entry here fails `tests/unit/security/test_rule_coverage.py`; the
permission named for a read route is checked against the service's oplog entry by
`tests/integration/security/test_permission_matrix.py`.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import fastapi.routing
from fastapi import FastAPI
from starlette.routing import Mount

from juki.security.permissions import Permission as P


@dataclass(frozen=True, slots=True)
class Open:
    """Deliberately needs no operator: why."""

    reason: str


@dataclass(frozen=True, slots=True)
class Session:
    """Any signed-in operator (the terminal's own pages, no personal data): why."""

    reason: str


@dataclass(frozen=True, slots=True)
class NodeAdmin:
    """The node's admin token (one per node, held by its 運用管理者; `juki network admin-token`):
    the routes act as `nodes.admin_api.ADMIN_ACTOR` and log every change with `log_operation`."""

    logged_as: str


@dataclass(frozen=True, slots=True)
class Console:
    """A command that acts without an operator's token: why, and as whom."""

    reason: str


@dataclass(frozen=True, slots=True)
class ByKind:
    """The permission of the change kind the path names (`review.kinds.KINDS[kind].permission`),
    checked — a refusal logged — before the screen reads anything: why one route has many."""

    reason: str


Rule = P | Open | Session | NodeAdmin | Console | ByKind
ENTRY: Final = ByKind(
    "the terminal's life-event entry screens (certificates.terminal.entry): one route per "
    "screen shape, each kind filed through the review path with its own permission "
    "(tests/integration/certificates/test_entry_terminal.py shows a refusal logged)"
)

DOCS: Final = Open("the OpenAPI document and its offline viewer: no data")
HEALTH: Final = Open("a load balancer's probe: status and the municipality code only")
VERIFY: Final = Open(
    "certificate verification for residents and banks: answers only to the holder of a "
    "certificate's id and digest (or the PDF itself)"
)
SIGN_IN: Final = Open(
    "signing in and enrolling 照合情報: the WebAuthn ceremony and the card PIN are the "
    "credential; each post checks the form's double-submit nonce"
)

REGISTRY_ROUTES: Final[dict[str, Rule]] = {
    "GET /openapi.json": DOCS,
    "HEAD /openapi.json": DOCS,
    "GET /docs": DOCS,
    "HEAD /docs": DOCS,
    "MOUNT /docs-assets": DOCS,
    "GET /health": HEALTH,
    "GET /api/v1/residents": P.SEARCH_RECORDS,
    "GET /api/v1/residents/{record_id}": P.VIEW_RECORD,
    "GET /api/v1/residents/{record_id}/history": P.VIEW_RECORD,
    "GET /api/v1/residents/{record_id}/seal": P.VIEW_SEAL,
    "GET /api/v1/households/{household_id}": P.VIEW_RECORD,
    "GET /api/v1/stats": P.VIEW_STATS,
    "GET /api/v1/residents/{record_id}/as-of": P.VIEW_RECORD,
    "POST /api/v1/events/birth": P.RECORD_BIRTH,
    "POST /api/v1/events/death": P.RECORD_DEATH,
    "POST /api/v1/events/move-in": P.RECORD_MOVE_IN,
    "POST /api/v1/events/move-out": P.RECORD_MOVE_OUT,
    "POST /api/v1/events/move-out-confirmation": P.CONFIRM_MOVE_OUT,
    "POST /api/v1/events/relocation": P.RECORD_RELOCATION,
    "POST /api/v1/events/household-split": P.CHANGE_HOUSEHOLD,
    "POST /api/v1/events/household-merge": P.CHANGE_HOUSEHOLD,
    "POST /api/v1/events/householder-change": P.CHANGE_HOUSEHOLD,
    "POST /api/v1/events/name-change": P.CHANGE_NAME,
    "POST /api/v1/events/entry-by-authority": P.ENTER_BY_AUTHORITY,
    "POST /api/v1/events/correction-by-authority": P.CORRECT_BY_AUTHORITY,
    "POST /api/v1/events/removal-by-authority": P.REMOVE_BY_AUTHORITY,
    "POST /api/v1/events/my-number-assignment": P.ASSIGN_MY_NUMBER,
    "POST /api/v1/events/move-out-withdrawal": P.WITHDRAW_MOVE_OUT,
    "POST /api/v1/events/change-cancellation": P.CANCEL_CHANGE,
    "POST /api/v1/events/alias": P.CHANGE_NAME,
    "POST /api/v1/events/alias-deletion": P.CHANGE_NAME,
    "POST /api/v1/events/resident-code-change": P.CHANGE_RESIDENT_CODE,
    "GET /api/v1/provisional-changes": P.VIEW_PROVISIONAL_CHANGES,
    "GET /api/v1/provisional-changes/{change_id}": P.VIEW_PROVISIONAL_CHANGES,
    "GET /api/v1/provisional-changes/{change_id}/resident-code-notice": P.CHANGE_RESIDENT_CODE,
    "POST /api/v1/provisional-changes/{change_id}/approval": P.APPROVE_CHANGE,
    "POST /api/v1/provisional-changes/{change_id}/rejection": P.APPROVE_CHANGE,
    "POST /api/v1/provisional-changes/{change_id}/withdrawal": P.WITHDRAW_CHANGE,
    "POST /api/v1/seals": P.REGISTER_SEAL,
    "POST /api/v1/seals/{registration_number}/abolition": P.ABOLISH_SEAL,
    "POST /api/v1/support-measures": P.MANAGE_SUPPORT_MEASURES,
    "POST /api/v1/support-measures/{measure_id}/renewal": P.MANAGE_SUPPORT_MEASURES,
    "POST /api/v1/support-measures/{measure_id}/release": P.MANAGE_SUPPORT_MEASURES,
    "POST /api/v1/support-measures/{measure_id}/termination": P.MANAGE_SUPPORT_MEASURES,
    "GET /api/v1/support-measures/{measure_id}": P.MANAGE_SUPPORT_MEASURES,
    "GET /api/v1/residents/{record_id}/support-measures": P.MANAGE_SUPPORT_MEASURES,
    "GET /api/v1/residents/{record_id}/protection": P.CHECK_SUPPORT_MEASURE,
    "GET /api/v1/certificates/{certificate_id}/status": VERIFY,
    "GET /api/v1/certificates/{certificate_id}/verification": VERIFY,
    "POST /api/v1/certificates/verification": VERIFY,
    "GET /verify/": VERIFY,
    "GET /verify/check": VERIFY,
    "GET /verify/{certificate_id}": VERIFY,
    "POST /verify/pdf": VERIFY,
    "POST /api/v1/certificates/wide-area": P.REQUEST_WIDE_AREA_ISSUANCE,
    "GET /api/v1/certificates/wide-area/requests": P.VIEW_CERTIFICATE_REGISTER,
    "POST /api/v1/certificates/counter": P.ISSUE_CERTIFICATE,
    "GET /api/v1/certificates/kiosk/settings": P.MANAGE_KIOSK_SETTINGS,
    "PUT /api/v1/certificates/kiosk/settings": P.MANAGE_KIOSK_SETTINGS,
    "POST /api/v1/certificates/self-notice/registrations": P.REGISTER_SELF_NOTICE,
    "POST /api/v1/certificates/self-notice/registrations/{resident_code}/withdrawal": (
        P.WITHDRAW_SELF_NOTICE
    ),
    "GET /api/v1/certificates/self-notices": P.SEND_SELF_NOTICES,
    "POST /api/v1/certificates/self-notices/{notice_id}/sent": P.SEND_SELF_NOTICES,
    "GET /terminal/login": SIGN_IN,
    "POST /terminal/login/options": SIGN_IN,
    "POST /terminal/login": SIGN_IN,
    "GET /terminal/enrol": SIGN_IN,
    "POST /terminal/enrol/options": SIGN_IN,
    "POST /terminal/enrol": P.REGISTER_VERIFIER,
    "GET /terminal/webauthn.js": SIGN_IN,
    "POST /terminal/logout": Session("ends the operator's own session"),
    "GET /terminal/": Session("the menu: the operator's name and role, the links their role has"),
    "GET /terminal/residents": P.SEARCH_RECORDS,
    "GET /terminal/certificates/new": P.SEARCH_RECORDS,
    "POST /terminal/certificates/confirm": P.ISSUE_CERTIFICATE,
    "POST /terminal/certificates": P.ISSUE_CERTIFICATE,
    "GET /terminal/certificates/{certificate_id}": P.ISSUE_CERTIFICATE,
    "POST /terminal/certificates/{certificate_id}/spoiled": P.ISSUE_CERTIFICATE,
    "GET /terminal/register": P.VIEW_CERTIFICATE_REGISTER,
    "GET /terminal/certificates/{certificate_id}/void": P.VOID_CERTIFICATE,
    "POST /terminal/certificates/{certificate_id}/void": P.VOID_CERTIFICATE,
    "GET /terminal/wide-area": P.REQUEST_WIDE_AREA_ISSUANCE,
    "POST /terminal/wide-area/confirm": P.REQUEST_WIDE_AREA_ISSUANCE,
    "POST /terminal/wide-area": P.REQUEST_WIDE_AREA_ISSUANCE,
    "GET /terminal/wide-area/register": P.VIEW_CERTIFICATE_REGISTER,
    "GET /terminal/relocation": P.VIEW_RECORD,
    "POST /terminal/relocation": P.RECORD_RELOCATION,
    "GET /terminal/review": P.VIEW_PROVISIONAL_CHANGES,
    "GET /terminal/entry": P.VIEW_RECORD,
    "GET /terminal/entry/{kind}": ENTRY,
    "POST /terminal/entry/{kind}": ENTRY,
    "POST /terminal/review/approval": P.APPROVE_CHANGE,
    "POST /terminal/review/rejection": P.APPROVE_CHANGE,
    "POST /terminal/review/withdrawal": P.WITHDRAW_CHANGE,
    "GET /terminal/corrections": P.VIEW_RECORD,
    "GET /terminal/corrections/{request_id}": P.VIEW_RECORD,
    "POST /terminal/corrections/{request_id}/rejection": P.DECIDE_CORRECTION_REQUEST,
    "GET /terminal/self-notices": P.SEND_SELF_NOTICES,
    "POST /terminal/self-notices/registrations": P.REGISTER_SELF_NOTICE,
    "POST /terminal/self-notices/sent": P.SEND_SELF_NOTICES,
    # the governance ledgers (juki.governance.ledgers.api; screens: juki.nodes.ledger_screens)
    "GET /api/v1/ledgers/room-access": P.VIEW_LEDGERS,
    "POST /api/v1/ledgers/room-access": P.APPROVE_ROOM_ACCESS,
    "POST /api/v1/ledgers/room-access/{access_id}/entry": P.RECORD_ROOM_ACCESS,
    "POST /api/v1/ledgers/room-access/{access_id}/exit": P.RECORD_ROOM_ACCESS,
    "GET /api/v1/ledgers/config": P.VIEW_LEDGERS,
    "GET /api/v1/ledgers/config/history": P.VIEW_LEDGERS,
    "POST /api/v1/ledgers/config": P.MANAGE_CONFIG_LEDGER,
    "POST /api/v1/ledgers/config/{item_id}/changes": P.MANAGE_CONFIG_LEDGER,
    "POST /api/v1/ledgers/config/{item_id}/removal": P.MANAGE_CONFIG_LEDGER,
    "GET /api/v1/ledgers/contracts": P.VIEW_LEDGERS,
    "POST /api/v1/ledgers/contracts": P.MANAGE_CONTRACTS,
    "POST /api/v1/ledgers/contracts/{contract_id}/amendment": P.MANAGE_CONTRACTS,
    "POST /api/v1/ledgers/contracts/{contract_id}/end": P.MANAGE_CONTRACTS,
    "POST /api/v1/ledgers/contracts/{contract_id}/audits": P.MANAGE_CONTRACTS,
    "GET /api/v1/ledgers/contract-audits": P.VIEW_LEDGERS,
    "GET /api/v1/ledgers/incidents": P.VIEW_LEDGERS,
    "GET /api/v1/ledgers/incidents/{incident_id}": P.VIEW_LEDGERS,
    "POST /api/v1/ledgers/incidents": P.REPORT_INCIDENT,
    "POST /api/v1/ledgers/incidents/{incident_id}/steps": P.HANDLE_INCIDENT,
    "POST /api/v1/ledgers/incidents/{incident_id}/closure": P.HANDLE_INCIDENT,
    "GET /api/v1/ledgers/operator-cards": P.VIEW_OPERATOR_LEDGER,
    "GET /api/v1/ledgers/summary": P.VIEW_LEDGERS,
    "GET /terminal/ledgers": Session("the ledgers' menu: links only"),
    "GET /terminal/ledgers/room-access": P.VIEW_LEDGERS,
    "POST /terminal/ledgers/room-access": P.APPROVE_ROOM_ACCESS,
    "POST /terminal/ledgers/room-access/entry": P.RECORD_ROOM_ACCESS,
    "POST /terminal/ledgers/room-access/exit": P.RECORD_ROOM_ACCESS,
    "GET /terminal/ledgers/config": P.VIEW_LEDGERS,
    "POST /terminal/ledgers/config": P.MANAGE_CONFIG_LEDGER,
    "POST /terminal/ledgers/config/changes": P.MANAGE_CONFIG_LEDGER,
    "GET /terminal/ledgers/operator-cards": P.VIEW_OPERATOR_LEDGER,
    "GET /terminal/ledgers/contracts": P.VIEW_LEDGERS,
    "POST /terminal/ledgers/contracts": P.MANAGE_CONTRACTS,
    "POST /terminal/ledgers/contracts/audits": P.MANAGE_CONTRACTS,
    "POST /terminal/ledgers/contracts/end": P.MANAGE_CONTRACTS,
    "GET /terminal/ledgers/incidents": P.VIEW_LEDGERS,
    "POST /terminal/ledgers/incidents": P.REPORT_INCIDENT,
    "GET /terminal/ledgers/incidents/{incident_id}": P.VIEW_LEDGERS,
    "POST /terminal/ledgers/incidents/{incident_id}/steps": P.HANDLE_INCIDENT,
    "POST /terminal/ledgers/incidents/{incident_id}/closure": P.HANDLE_INCIDENT,
}

DOOR: Final = Open(
    "the network door: every message and query is a signed envelope, verified and checked "
    "against its sender's AUTHORITY rule (network.authority) before anything is read"
)
NODE_ROUTES: Final[dict[str, Rule]] = {
    "GET /openapi.json": DOCS,
    "HEAD /openapi.json": DOCS,
    "GET /docs": DOCS,
    "HEAD /docs": DOCS,
    "MOUNT /docs-assets": DOCS,
    "POST /net/v1/messages": DOOR,
    "POST /net/v1/queries": DOOR,
    "GET /net/v1/directory": Open("the national directory: signed, node ids and endpoints only"),
    "GET /health": HEALTH,
    "GET /metrics": Open("Prometheus counters: no personal data, no ids"),
    "GET /admin/v1/status": NodeAdmin("(a read of queue sizes)"),
    "GET /admin/v1/digests": NodeAdmin("(counts and hashes, no records)"),
    "GET /admin/v1/fuhyo-digests": NodeAdmin("(附票連携: counts and hashes, no records)"),
    "POST /admin/v1/disconnect": NodeAdmin("disconnect_node (the decision, decide_disconnection)"),
    "POST /admin/v1/reconnect": NodeAdmin("reconnect_node (ends the decision)"),
    "GET /admin/v1/disconnections": NodeAdmin("(a read of the node's own 離脱 decisions)"),
    "POST /admin/v1/directory/refresh": NodeAdmin("(a fetch of the signed directory)"),
    "POST /admin/v1/check-result": NodeAdmin("(the last digest comparison)"),
    "GET /admin/v1/dead-letters": NodeAdmin("(listed without their bodies)"),
    "POST /admin/v1/dead-letters/{dead_letter_id}/replay": NodeAdmin("replay_dead_letter"),
    "POST /admin/v1/oplog/checkpoint": NodeAdmin("oplog_checkpoint"),
    "POST /admin/v1/snapshot": NodeAdmin("snapshot"),
    "POST /admin/v1/nodes/{node_id}/status": NodeAdmin("set_node_status"),
    # 本人確認情報の提供 (national, prefectures): the agency's network-root client certificate,
    # checked against the node's provision register on every call (juki.nodes.provide_api)
    "POST /provision/v1/requests": P.PROVIDE_IDENTITY_INFO,
    # the relay for registered stores' kiosks: the store's network-root client certificate,
    # checked against the national store register (juki.nodes.kiosk_stores) on every call
    "POST /kiosk/v1/challenge": P.USE_KIOSK_RELAY,
    "POST /portal/v1/challenge": P.USE_RESIDENT_PORTAL,
    "POST /portal/v1/sessions": P.USE_RESIDENT_PORTAL,
    "POST /portal/v1/sessions/end": P.USE_RESIDENT_PORTAL,
    "POST /portal/v1/disclosure": P.USE_RESIDENT_PORTAL,
    "POST /portal/v1/actions": P.USE_RESIDENT_PORTAL,
    "GET /kiosk/v1/municipalities/{lg_code}/key": P.USE_KIOSK_RELAY,
    "GET /kiosk/v1/municipalities/{lg_code}/offer": P.USE_KIOSK_RELAY,
    "POST /kiosk/v1/requests": P.USE_KIOSK_RELAY,
    "POST /kiosk/v1/requests/{request_id}/spoiled": P.USE_KIOSK_RELAY,
    "POST /kiosk/v1/requests/{request_id}/abandon": P.USE_KIOSK_RELAY,
}

SERVER: Final = Console("runs on the server; reads or changes no resident's data")
NETWORK: Final = Console(
    "manages node processes and their keys on the host; no resident's data "
    "(node administration over HTTP is the admin API, logged)"
)
FIRST_OPERATOR: Final = "without a token acts as the console's アクセス管理責任者 (first operator)"

COMMANDS: Final[dict[str, Rule]] = {
    "id validate": SERVER,
    "id complete": SERVER,
    "seed": Console("acts as the system (Actor.system('seed')); the oplog says so"),
    "db upgrade": SERVER,
    "registry stats": P.VIEW_STATS,
    "registry support record": P.MANAGE_SUPPORT_MEASURES,
    "registry support renew": P.MANAGE_SUPPORT_MEASURES,
    "registry support release": P.MANAGE_SUPPORT_MEASURES,
    "registry support end": P.MANAGE_SUPPORT_MEASURES,
    "registry support show": P.MANAGE_SUPPORT_MEASURES,
    "registry support status": P.CHECK_SUPPORT_MEASURE,
    "registry resident-code change": P.CHANGE_RESIDENT_CODE,
    "registry resident-code notice": P.CHANGE_RESIDENT_CODE,
    "registry pending list": P.VIEW_PROVISIONAL_CHANGES,
    "registry pending show": P.VIEW_PROVISIONAL_CHANGES,
    "registry pending approve": P.APPROVE_CHANGE,
    "registry pending reject": P.APPROVE_CHANGE,
    "registry pending withdraw": P.WITHDRAW_CHANGE,
    "operator add": P.MANAGE_OPERATORS,
    "operator token": P.MANAGE_OPERATORS,
    "operator revoke": P.MANAGE_OPERATORS,
    "operator suspend": P.MANAGE_OPERATORS,
    "operator reinstate": P.MANAGE_OPERATORS,
    "operator withdraw": P.MANAGE_OPERATORS,
    "operator unlock": P.CLEAR_LOCKOUT,
    "operator enrolment": P.MANAGE_OPERATORS,
    "operator transfer": P.MANAGE_OPERATORS,
    "operator card": P.ISSUE_OPERATOR_CARD,
    "operator terminal": P.REGISTER_TERMINAL,
    "operator ledger": P.VIEW_OPERATOR_LEDGER,
    # --db with a token; --archive (a file on its own) and --dir (the network host's check,
    # logged in each node as the console's 運用管理者) need none.
    "oplog verify": P.VIEW_OPLOG,
    "oplog export": P.EXPORT_OPLOG,
    "oplog prune": P.PRUNE_OPLOG,
    "oplog report": P.VIEW_OPLOG,
    "oplog checkpoint": P.CHECKPOINT_OPLOG,
    "cert issue": P.ISSUE_CERTIFICATE,
    "cert verify": VERIFY,
    "cert void": P.VOID_CERTIFICATE,
    "cert spoil": P.ISSUE_CERTIFICATE,
    "cert register": P.VIEW_CERTIFICATE_REGISTER,
    "cert wide-area-register": P.VIEW_CERTIFICATE_REGISTER,
    "cert fee": P.MANAGE_CERTIFICATE_FEES,
    "cert signatory": P.SET_CERTIFICATE_SIGNATORY,
    "cert kiosk-settings show": P.MANAGE_KIOSK_SETTINGS,
    "cert kiosk-settings set": P.MANAGE_KIOSK_SETTINGS,
    "cert self-notice register": P.REGISTER_SELF_NOTICE,
    "cert self-notice withdraw": P.WITHDRAW_SELF_NOTICE,
    "cert self-notice list": P.SEND_SELF_NOTICES,
    "cert self-notice sent": P.SEND_SELF_NOTICES,
    "card issue": P.ISSUE_CARD,
    "card status": P.VIEW_CARD,
    "card unlock": P.RESET_CARD_PIN,
    "card abolish": P.ABOLISH_CARD,
    "card suspend": P.SUSPEND_CARD,
    "card resume": P.SUSPEND_CARD,
    "serve": SERVER,
    "demo": NETWORK,
    "network init": NETWORK,
    "network up": NETWORK,
    "network down": NETWORK,
    "network status": NETWORK,
    "network disconnect": NETWORK,
    "network reconnect": NETWORK,
    "network decisions": NETWORK,
    "network check": NETWORK,
    "network admin-token": NETWORK,
    "node run": NETWORK,
    "sim": Console("simulates a whole network in its own databases: synthetic people only"),
    "kiosk cards": Console(
        "DEMO ONLY, refused on a network not made with --demo: issues cards as the demo's "
        "clerk and registers the demo store as a national operator, both in the oplog"
    ),
    "kiosk stress": Console(
        "a client of the relay with the demo store's certificate; each call is in the national "
        "oplog as that store"
    ),
    # the production store register on the national node (juki.nodes.kiosk_store_cli)
    "agency add": P.MANAGE_PROVISION_REGISTER,
    "agency withdraw": P.MANAGE_PROVISION_REGISTER,
    "agency list": P.VIEW_PROVISION_REGISTER,
    "task load": P.MANAGE_PROVISION_REGISTER,
    "task list": P.VIEW_PROVISION_REGISTER,
    "provide": Console(
        "the agency's own client certificate, checked by the node against its provision "
        "register; every lookup judged by the task and recorded there (no database opened)"
    ),
    "provision stats": P.VIEW_PROVISION_STATS,
    "ledger room permit": P.APPROVE_ROOM_ACCESS,
    "ledger room enter": P.RECORD_ROOM_ACCESS,
    "ledger room exit": P.RECORD_ROOM_ACCESS,
    "ledger room list": P.VIEW_LEDGERS,
    "ledger config add": P.MANAGE_CONFIG_LEDGER,
    "ledger config change": P.MANAGE_CONFIG_LEDGER,
    "ledger config remove": P.MANAGE_CONFIG_LEDGER,
    "ledger config list": P.VIEW_LEDGERS,
    "ledger config history": P.VIEW_LEDGERS,
    "ledger cards": P.VIEW_OPERATOR_LEDGER,
    "ledger summary": P.VIEW_LEDGERS,
    "ledger contract add": P.MANAGE_CONTRACTS,
    "ledger contract amend": P.MANAGE_CONTRACTS,
    "ledger contract end": P.MANAGE_CONTRACTS,
    "ledger contract audit": P.MANAGE_CONTRACTS,
    "ledger contract list": P.VIEW_LEDGERS,
    "ledger contract audits": P.VIEW_LEDGERS,
    "ledger incident open": P.REPORT_INCIDENT,
    "ledger incident step": P.HANDLE_INCIDENT,
    "ledger incident close": P.HANDLE_INCIDENT,
    "ledger incident list": P.VIEW_LEDGERS,
    "ledger incident show": P.VIEW_LEDGERS,
    "kiosk store add": P.MANAGE_KIOSK_STORES,
    "kiosk store withdraw": P.MANAGE_KIOSK_STORES,
    "kiosk store list": P.MANAGE_KIOSK_STORES,
    "portal init": Console(
        "DEMO ONLY, refused on a network not made with --demo: issues the portal's credential "
        "and registers it as the demo's national operator (manage_portal), in the national oplog"
    ),
    "portal serve": Console(
        "the resident portal's UI for anonymous residents: the card and its PIN authenticate "
        "them at the relay, whose every call is in the national oplog as the portal app"
    ),
    "portal corrections": P.VIEW_RECORD,
    "kiosk serve": Console(
        "a store's kiosk UI for anonymous customers: the card and its PIN authenticate each "
        "request at the relay, whose every call is in the national oplog as the store"
    ),
    "report transparency": Console(
        "the network host's own reading, as `oplog verify --dir`: counts, verdicts and the "
        "register, never a person; each node's reading is authorised and logged there as the "
        "console's 運用管理者 (compile_transparency_report)"
    ),
    "audit network": Console(
        "reads a topology YAML file and writes at most a diagram: no node, database or "
        "personal data (docs/topology.md)"
    ),
}

# `juki operator …` takes a token, and without one acts as the console's アクセス管理責任者
# (how the first operator is registered); every other command with a permission refuses.
OPERATOR_COMMANDS_WITHOUT_TOKEN: Final = FIRST_OPERATOR


# -- enumerating what the tables must cover -----------------------------------------------------


def route_keys(routes: Iterable[Any], prefix: str = "") -> Iterator[str]:
    """ "METHOD /path" of every route an app serves, mounted apps' routes under their mount;
    a mount of anything else (static files) as "MOUNT /path"."""
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    for r in list(iter_contexts(routes)) if iter_contexts else list(routes):
        original = getattr(r, "original_route", r)
        path = getattr(r, "path", getattr(original, "path", ""))
        if isinstance(original, Mount):
            if isinstance(original.app, FastAPI):
                yield from route_keys(original.app.routes, prefix + original.path)
            else:
                yield f"MOUNT {prefix}{original.path}"
            continue
        methods = getattr(r, "methods", None) or getattr(original, "methods", None) or {"?"}
        for method in sorted(methods):
            yield f"{method} {prefix}{path}"


def command_leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """("cert self-notice list", its parser) for every leaf command under `parser`."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield " ".join(path), parser
        return
    for action in subs:
        for name, sub in action.choices.items():
            yield from command_leaves(sub, (*path, name))


def takes_token(parser: argparse.ArgumentParser) -> bool:
    return any(a.dest == "token" for a in parser._actions)


ACTION_CALLS: Final = ("perform", "perform_outside", "authorize")
# Calls whose permission is a variable, each chosen from literal ones the same function names.
DYNAMIC_ACTIONS: Final = {
    # view_issued_certificate: a supervisor reads any (VOID_CERTIFICATE), a clerk their own.
    "certificates/services/register.py": {P.VOID_CERTIFICATE, P.ISSUE_CERTIFICATE},
    # 広域交付: the asking side (REQUEST_…) or the answering side (ANSWER_…) passes its own.
    "certificates/wide_area.py": {P.REQUEST_WIDE_AREA_ISSUANCE, P.ANSWER_WIDE_AREA_REQUEST},
    # 仮登録: entering a change is authorised by its kind's permission (review.kinds.KINDS), the
    # one its service checks (tests/unit/registry/review/test_review_kinds.py proves it).
    "registry/review/services.py": set(),
    # The one place that checks (authorize(by.actor_id, by.role, action)).
    "security/actions.py": set(),
}


@dataclass(frozen=True, slots=True)
class ActionCall:
    module: str  # relative to src/juki
    line: int
    call: str
    permission: P | None  # None: a variable (DYNAMIC_ACTIONS)


def action_calls(src: Path) -> list[ActionCall]:
    """Every call of perform / perform_outside / authorize in the package, with the permission
    it passes (its third argument) when that is a literal `Permission.X`."""
    calls: list[ActionCall] = []
    for path in sorted(src.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = (
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
            if name not in ACTION_CALLS or len(node.args) < 3:
                continue
            arg = node.args[2]
            literal = (
                isinstance(arg, ast.Attribute)
                and isinstance(arg.value, ast.Name)
                and arg.value.id == "Permission"
            )
            permission = P[arg.attr] if literal else None  # type: ignore[union-attr]
            calls.append(
                ActionCall(path.relative_to(src).as_posix(), node.lineno, name, permission)
            )
    return calls
