"""The single authorisation table: which role may perform which action.

Seed 002 separates 照合ID (who the operator is) from 操作者ID (what authority they hold); here the
operator_id is the former and the role the latter. Every service checks one `Permission` through
`authorize`, so the table below is the whole policy a council needs to read.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final

from juki.core.errors import PermissionDeniedError


class Permission(StrEnum):
    VIEW_RECORD = "view_record"
    SEARCH_RECORDS = "search_records"
    VIEW_STATS = "view_stats"
    RECORD_BIRTH = "record_birth"
    RECORD_DEATH = "record_death"
    RECORD_MOVE_IN = "record_move_in"
    RECORD_MOVE_OUT = "record_move_out"
    CONFIRM_MOVE_OUT = "confirm_move_out"
    WITHDRAW_MOVE_OUT = "withdraw_move_out"  # 転出取消 (the resident's own withdrawal)
    CANCEL_CHANGE = "cancel_change"  # 異動取消 (職権)
    RECORD_RELOCATION = "record_relocation"
    CHANGE_HOUSEHOLD = "change_household"
    CHANGE_NAME = "change_name"
    CHANGE_RESIDENT_CODE = "change_resident_code"  # 住民票コードの変更請求 (法第30条の4)
    ENTER_BY_AUTHORITY = "enter_by_authority"
    CORRECT_BY_AUTHORITY = "correct_by_authority"
    REMOVE_BY_AUTHORITY = "remove_by_authority"
    ASSIGN_MY_NUMBER = "assign_my_number"
    REGISTER_SEAL = "register_seal"
    ABOLISH_SEAL = "abolish_seal"
    VIEW_SEAL = "view_seal"
    SEED_POPULATION = "seed_population"
    MANAGE_OPERATORS = "manage_operators"
    VIEW_OPLOG = "view_oplog"
    # Seal a closed month as a signed archive; remove sealed months older than seven years.
    EXPORT_OPLOG = "export_oplog"
    PRUNE_OPLOG = "prune_oplog"
    # Sign the chain head now (`juki oplog checkpoint`) and send it to the parent to countersign.
    CHECKPOINT_OPLOG = "checkpoint_oplog"
    ISSUE_CERTIFICATE = "issue_certificate"
    VOID_CERTIFICATE = "void_certificate"
    OVERRIDE_SUPPORT_MEASURE = "override_support_measure"
    # 支援措置 (事務処理要領 第5-10): record, renew, release and terminate one, and read it whole
    # (it names the 加害者); a clerk may only check whether a person is protected on a day.
    MANAGE_SUPPORT_MEASURES = "manage_support_measures"
    CHECK_SUPPORT_MEASURE = "check_support_measure"
    VIEW_CERTIFICATE_REGISTER = "view_certificate_register"
    MANAGE_CERTIFICATE_FEES = "manage_certificate_fees"
    SET_CERTIFICATE_SIGNATORY = "set_certificate_signatory"  # 市区町村長の職名と氏名
    # 広域交付: a clerk at B asks A's CS for a resident's certificate content; A's CS answers.
    REQUEST_WIDE_AREA_ISSUANCE = "request_wide_area_issuance"
    ANSWER_WIDE_AREA_REQUEST = "answer_wide_area_request"
    # コンビニ交付: the national relay, having checked the card, asks this municipality's
    # certificate server for the card holder's certificate (or records a spoiled page); the
    # operations manager sets which certificates, fees and hours the kiosks offer.
    ANSWER_KIOSK_REQUEST = "answer_kiosk_request"
    MANAGE_KIOSK_SETTINGS = "manage_kiosk_settings"
    # 本人通知: a resident registers (or withdraws) at the counter; the clerk posts the notices.
    REGISTER_SELF_NOTICE = "register_self_notice"
    WITHDRAW_SELF_NOTICE = "withdraw_self_notice"
    SEND_SELF_NOTICES = "send_self_notices"
    # Operators (seed 002 第13条: 照合ID・照合情報・操作者ID and their ledger; seed 001
    # 第7条・第16条: 暗証番号等 — the operator card and its PIN). Registering, transferring,
    # suspending and withdrawing an operator, and issuing the command-line token, are
    # MANAGE_OPERATORS.
    ISSUE_OPERATOR_CARD = "issue_operator_card"  # 操作識別カードの交付・回収
    CLEAR_LOCKOUT = "clear_lockout"  # a locked-out operator may try again
    REGISTER_TERMINAL = "register_terminal"  # 統合端末: its id and municipality
    VIEW_OPERATOR_LEDGER = "view_operator_ledger"  # 照合ID及び操作者IDの管理簿
    # Enrolling one's own 照合情報 (a WebAuthn credential) with the code the manager handed over.
    REGISTER_VERIFIER = "register_verifier"
    # Sensitive items of a record, shown only to a role whose task needs them (issue 11); a record
    # view hides the rest. Every showing of a 個人番号 is marked in the oplog (`my_number_shown`).
    VIEW_MY_NUMBER = "view_my_number"  # 個人番号 (番号法 第19条・第20条)
    VIEW_RESIDENT_CODE = "view_resident_code"  # 住民票コード (法第30条の37・第30条の38)
    VIEW_HONSEKI = "view_honseki"  # 本籍・筆頭者 (戸籍の表示)
    VIEW_RESIDENCE_STATUS = "view_residence_status"  # 在留資格・在留期間・在留カード等の番号
    # 個人番号カード (issue 12): 交付申請・交付・更新・継続利用, 一時停止, 廃止 at the counter; the
    # 暗証番号管理者 resets (and so unlocks) a PIN; the node resolves a card serial for the relay.
    ISSUE_CARD = "issue_card"
    SUSPEND_CARD = "suspend_card"
    ABOLISH_CARD = "abolish_card"
    RESET_CARD_PIN = "reset_card_pin"
    VIEW_CARD = "view_card"
    RESOLVE_CARD = "resolve_card"
    # コンビニ交付 stores (店舗): a national operator registers and withdraws a store (its
    # network-root client certificate); a registered store's kiosks call the relay.
    MANAGE_KIOSK_STORES = "manage_kiosk_stores"
    USE_KIOSK_RELAY = "use_kiosk_relay"
    # 仮登録 → 本登録 (issue 11): an operator's change waits as a provisional change until a
    # supervisor other than its clerk approves (本登録) or rejects it with a reason; its clerk
    # may withdraw it. Entering one is authorised by the change's own permission.
    VIEW_PROVISIONAL_CHANGES = "view_provisional_changes"
    APPROVE_CHANGE = "approve_change"  # 審査: approve or reject (自己承認は不可)
    WITHDRAW_CHANGE = "withdraw_change"  # the clerk takes back their own provisional change
    EDIT_RESIDENT = "edit_resident"  # 排他: open a resident for editing (the edit lock)
    EXPIRE_CHANGES = "expire_changes"  # the node closes pending changes left undecided too long
    # 本人確認情報の提供 (issue 13): the register of recipient agencies (their network-root
    # client certificates) and of permitted tasks (法別表第一〜第六, with their history).
    MANAGE_PROVISION_REGISTER = "manage_provision_register"
    VIEW_PROVISION_REGISTER = "view_provision_register"
    # An agency's lookup, judged by the register (juki.provision.provide); and the yearly
    # counts of provisions by agency and task (提供状況の公表).
    PROVIDE_IDENTITY_INFO = "provide_identity_info"
    VIEW_PROVISION_STATS = "view_provision_stats"
    # The resident portal (issue 13 point 5): a node answers what it holds about the one card
    # holder the national portal relay authenticated; the portal app calls that relay.
    DISCLOSE_TO_HOLDER = "disclose_to_holder"
    USE_RESIDENT_PORTAL = "use_resident_portal"
    FILE_CORRECTION_REQUEST = "file_correction_request"  # 訂正の申出, for the holder
    # The counter's decision on a 訂正の申出: accepted (the change entered through review) or
    # rejected with a reason the resident sees in the portal.
    DECIDE_CORRECTION_REQUEST = "decide_correction_request"
    MANAGE_PORTAL = "manage_portal"  # register the portal app's credential (national)
    # The governance ledgers (issue 14 point 3; docs/ledgers.md). 入退室管理簿: the prior
    # permission (seed 001 第12②, 002 第9条: the 管理者 permits beforehand), then the entry and
    # exit as they happen; 構成管理簿 (001 第14⑸, 様式第1号); 委託契約 and 受託者の調査 (001
    # 第23–第25, 002 第17–第20条); 事故: reporting one, and following it through its steps.
    APPROVE_ROOM_ACCESS = "approve_room_access"
    RECORD_ROOM_ACCESS = "record_room_access"
    MANAGE_CONFIG_LEDGER = "manage_config_ledger"
    MANAGE_CONTRACTS = "manage_contracts"
    REPORT_INCIDENT = "report_incident"
    HANDLE_INCIDENT = "handle_incident"
    VIEW_LEDGERS = "view_ledgers"
    # 離脱 (issue 14): the municipality's or prefecture's own decision to leave the network for a
    # while (住基法 第36条の2, 必要な措置), recorded with who decided and why, and its end.
    DECIDE_DISCONNECTION = "decide_disconnection"
    # The transparency report for a privacy council (issue 14): counts and verdicts read from
    # every node's records, never a person.
    COMPILE_TRANSPARENCY_REPORT = "compile_transparency_report"


class Role(StrEnum):
    """操作者ID: the authority an operator holds."""

    COUNTER_CLERK = "counter_clerk"  # 窓口担当者: notifications filed by residents
    REGISTRY_SUPERVISOR = "registry_supervisor"  # 審査 (管理者): adds actions by authority (職権)
    OPERATIONS_MANAGER = "operations_manager"  # 住基ネット運用管理者 (001 第6): operators, loads
    AUDITOR = "auditor"  # 監査: read the log and statistics, nothing personal
    SYSTEM = "system"  # the node itself (network handlers, scheduled jobs)
    # Seed 001 (稲城市): 統括者 (第3), 暗証番号管理者 (第7: PINs and operator cards).
    GENERAL_SUPERVISOR = "general_supervisor"  # 統括者
    PIN_MANAGER = "pin_manager"  # 暗証番号管理者
    # Seed 002 (防府市): 第3条-第16条の3.
    SECURITY_CHIEF = "security_chief"  # セキュリティ統括責任者
    SECURITY_OFFICER = "security_officer"  # セキュリティ責任者
    SYSTEM_ADMINISTRATOR = "system_administrator"  # システム管理者 (machines, rooms)
    ACCESS_MANAGER = "access_manager"  # アクセス管理責任者 (照合ID・操作者ID, the oplog)
    IDENTITY_INFO_MANAGER = "identity_info_manager"  # 本人確認情報管理責任者
    INFO_ASSET_MANAGER = "info_asset_manager"  # 情報資産管理責任者
    # Operators of the upper levels (都道府県サーバ, 全国サーバ): statistics and the oplog.
    PREFECTURE_OPERATOR = "prefecture_operator"
    NATIONAL_OPERATOR = "national_operator"
    # The kiosk relay (証明書交付センター on the national node) acting at this municipality's
    # certificate server for a card holder it authenticated: a node, not a person.
    KIOSK_RELAY = "kiosk_relay"
    # A registered store's kiosks (店舗: an operator company's multi-copy machines), known to
    # the relay by the client certificate the network root issued it: a machine, not a person.
    KIOSK_STORE = "kiosk_store"
    # A recipient agency (本人確認情報の提供), known by the client certificate the network root
    # issued it and registered in the provision register: a machine, not a person.
    AGENCY = "agency"
    # The portal relay on the national node acting at a municipality or prefecture for a card
    # holder it authenticated (本人確認情報開示, 本人通知): a node, not a person.
    PORTAL_RELAY = "portal_relay"
    # The resident portal's web app, known to the relay by the client certificate the network
    # root issued it and the national node registered: a machine, not a person.
    RESIDENT_PORTAL = "resident_portal"


_CLERK: Final = frozenset(
    {
        Permission.VIEW_RECORD,
        Permission.SEARCH_RECORDS,
        Permission.VIEW_STATS,
        Permission.RECORD_BIRTH,
        Permission.RECORD_DEATH,
        Permission.RECORD_MOVE_IN,
        Permission.RECORD_MOVE_OUT,
        Permission.WITHDRAW_MOVE_OUT,
        Permission.RECORD_RELOCATION,
        Permission.CHANGE_HOUSEHOLD,
        Permission.CHANGE_NAME,
        Permission.CHANGE_RESIDENT_CODE,
        Permission.REGISTER_SEAL,
        Permission.ABOLISH_SEAL,
        Permission.VIEW_SEAL,
        Permission.ISSUE_CERTIFICATE,
        Permission.REQUEST_WIDE_AREA_ISSUANCE,
        Permission.CHECK_SUPPORT_MEASURE,
        Permission.REGISTER_SELF_NOTICE,
        Permission.WITHDRAW_SELF_NOTICE,
        Permission.SEND_SELF_NOTICES,
        # The counter checks a notification against the 住民票コード, the 本籍 and the 在留資格
        # and prints them on a certificate when asked; it needs no 個人番号 to do so.
        Permission.VIEW_RESIDENT_CODE,
        Permission.VIEW_HONSEKI,
        Permission.VIEW_RESIDENCE_STATUS,
        Permission.ISSUE_CARD,
        Permission.SUSPEND_CARD,
        Permission.ABOLISH_CARD,
        Permission.VIEW_CARD,
        Permission.VIEW_PROVISIONAL_CHANGES,
        Permission.WITHDRAW_CHANGE,
        Permission.EDIT_RESIDENT,
        Permission.DECIDE_CORRECTION_REQUEST,
    }
)

_OVERSIGHT: Final = frozenset(
    {
        Permission.VIEW_STATS,
        Permission.VIEW_OPLOG,
        Permission.VIEW_OPERATOR_LEDGER,
        Permission.VIEW_LEDGERS,
    }
)
# Who answers for the machines and their rooms and handles what goes wrong with them: the
# 運用管理者 (001 第6, 第19③, 第22③, 第28) and the システム管理者 (002 第4条, 第9条).
_INCIDENTS: Final = frozenset(
    {Permission.REPORT_INCIDENT, Permission.HANDLE_INCIDENT, Permission.VIEW_LEDGERS}
)

_TABLE: Final = MappingProxyType(
    {
        Role.COUNTER_CLERK: _CLERK,
        Role.REGISTRY_SUPERVISOR: _CLERK
        | {
            Permission.ENTER_BY_AUTHORITY,
            Permission.CORRECT_BY_AUTHORITY,
            Permission.REMOVE_BY_AUTHORITY,
            Permission.CANCEL_CHANGE,
            Permission.CONFIRM_MOVE_OUT,
            Permission.VIEW_OPLOG,
            # 証明書の無効化, and issuing to a person under 支援措置 after checking the request.
            Permission.VOID_CERTIFICATE,
            Permission.OVERRIDE_SUPPORT_MEASURE,
            Permission.MANAGE_SUPPORT_MEASURES,
            Permission.VIEW_CERTIFICATE_REGISTER,
            # 審査 checks the 個人番号 a change carries (職権記載・修正, its 指定 from national).
            Permission.VIEW_MY_NUMBER,
            # 審査: 本登録 of another operator's provisional change, or its rejection.
            Permission.APPROVE_CHANGE,
        },
        Role.OPERATIONS_MANAGER: frozenset(
            {
                Permission.VIEW_STATS,
                Permission.SEED_POPULATION,
                Permission.MANAGE_OPERATORS,
                Permission.VIEW_OPLOG,
                Permission.EXPORT_OPLOG,
                Permission.PRUNE_OPLOG,
                Permission.CHECKPOINT_OPLOG,
                Permission.MANAGE_CERTIFICATE_FEES,
                Permission.MANAGE_KIOSK_SETTINGS,
                Permission.SET_CERTIFICATE_SIGNATORY,
                Permission.VIEW_OPERATOR_LEDGER,
                # 管理者等 (001 第23–第25): contracts; 運用管理者: reports and handles incidents.
                Permission.MANAGE_CONTRACTS,
                Permission.RECORD_ROOM_ACCESS,
                Permission.DECIDE_DISCONNECTION,
                Permission.COMPILE_TRANSPARENCY_REPORT,
            }
        )
        | _INCIDENTS,
        # Those who answer for security read the oplog and the operator ledger; none of them
        # reads a resident's record by that role alone.
        Role.GENERAL_SUPERVISOR: _OVERSIGHT | {Permission.DECIDE_DISCONNECTION},
        # セキュリティ統括責任者 (002 第3条, 第8条, 第10条, 第18条): approves outsourcing, may
        # permit a room entry, and takes up a leak or misuse of 本人確認情報.
        Role.SECURITY_CHIEF: _OVERSIGHT
        | _INCIDENTS
        | {Permission.APPROVE_ROOM_ACCESS, Permission.MANAGE_CONTRACTS},
        Role.SECURITY_OFFICER: _OVERSIGHT
        | {Permission.REPORT_INCIDENT, Permission.RECORD_ROOM_ACCESS},
        # 暗証番号管理者: issues and takes back operator cards, and lets a locked-out operator in.
        Role.PIN_MANAGER: frozenset(
            {
                Permission.ISSUE_OPERATOR_CARD,
                Permission.CLEAR_LOCKOUT,
                Permission.VIEW_OPERATOR_LEDGER,
                # 個人番号カードの暗証番号の初期化 (and so its unlock), and finding the card.
                Permission.RESET_CARD_PIN,
                Permission.VIEW_CARD,
            }
        ),
        # アクセス管理責任者 (002 第13条): 照合ID, 照合情報 and 操作者ID, their ledger, the oplog
        # (which it also seals into monthly archives and checkpoints; pruning stays with the
        # 運用管理者).
        Role.ACCESS_MANAGER: _OVERSIGHT
        | {
            Permission.MANAGE_OPERATORS,
            Permission.CLEAR_LOCKOUT,
            Permission.REGISTER_TERMINAL,
            Permission.EXPORT_OPLOG,
            Permission.CHECKPOINT_OPLOG,
            Permission.RECORD_ROOM_ACCESS,
            Permission.REPORT_INCIDENT,
        },
        # システム管理者 (002 第4条, 第9条): the machines, so the terminals and their places,
        # the permission to enter their rooms, their configuration ledger (001 第14: 管理者),
        # the contracts of those who maintain them, and what goes wrong with them.
        Role.SYSTEM_ADMINISTRATOR: frozenset(
            {
                Permission.REGISTER_TERMINAL,
                Permission.VIEW_STATS,
                Permission.VIEW_OPLOG,
                Permission.APPROVE_ROOM_ACCESS,
                Permission.RECORD_ROOM_ACCESS,
                Permission.MANAGE_CONFIG_LEDGER,
                Permission.MANAGE_CONTRACTS,
            }
        )
        | _INCIDENTS,
        Role.IDENTITY_INFO_MANAGER: _OVERSIGHT | {Permission.VIEW_CERTIFICATE_REGISTER},
        # 情報資産管理責任者 (002 第16条の3): software, hardware, network and disks.
        Role.INFO_ASSET_MANAGER: frozenset(
            {
                Permission.VIEW_STATS,
                Permission.VIEW_OPLOG,
                Permission.VIEW_LEDGERS,
                Permission.RECORD_ROOM_ACCESS,
                Permission.MANAGE_CONFIG_LEDGER,
            }
        ),
        Role.PREFECTURE_OPERATOR: frozenset(
            {
                Permission.VIEW_STATS,
                Permission.VIEW_OPLOG,
                # a prefecture provides its own municipalities' residents' identity_info, so it
                # keeps the register too (docs/provision.md)
                Permission.MANAGE_PROVISION_REGISTER,
                Permission.VIEW_PROVISION_REGISTER,
                Permission.VIEW_PROVISION_STATS,
            }
        ),
        Role.NATIONAL_OPERATOR: frozenset(
            {
                Permission.VIEW_STATS,
                Permission.VIEW_OPLOG,
                Permission.MANAGE_KIOSK_STORES,
                Permission.MANAGE_PORTAL,
                Permission.MANAGE_PROVISION_REGISTER,
                Permission.VIEW_PROVISION_REGISTER,
                Permission.VIEW_PROVISION_STATS,
            }
        ),
        # Asks for identity_info for a permitted task; what it receives is the register's call.
        Role.AGENCY: frozenset({Permission.PROVIDE_IDENTITY_INFO}),
        # Calls the relay for its customers' cards; reads and manages nothing.
        Role.KIOSK_STORE: frozenset({Permission.USE_KIOSK_RELAY}),
        # Answers one authenticated card holder's request; reads nothing else, manages nothing.
        Role.KIOSK_RELAY: frozenset({Permission.ANSWER_KIOSK_REQUEST}),
        # Answers one authenticated card holder about themself; registers their 本人通知.
        Role.PORTAL_RELAY: frozenset(
            {
                Permission.DISCLOSE_TO_HOLDER,
                Permission.FILE_CORRECTION_REQUEST,
                Permission.REGISTER_SELF_NOTICE,
                Permission.WITHDRAW_SELF_NOTICE,
            }
        ),
        Role.RESIDENT_PORTAL: frozenset({Permission.USE_RESIDENT_PORTAL}),
        # The register names the subject by resident code only, as the oplog's targets do.
        Role.AUDITOR: _OVERSIGHT
        | {
            Permission.VIEW_CERTIFICATE_REGISTER,
            Permission.VIEW_PROVISION_REGISTER,
            Permission.VIEW_PROVISION_STATS,
            Permission.COMPILE_TRANSPARENCY_REPORT,
        },
        Role.SYSTEM: frozenset(
            {
                Permission.VIEW_RECORD,
                Permission.VIEW_STATS,
                Permission.CONFIRM_MOVE_OUT,
                Permission.ASSIGN_MY_NUMBER,
                Permission.SEED_POPULATION,
                # Builds a wide-area copy's content for another municipality's counter: the
                # content rules decide what it may hold, and the request is registered here.
                Permission.ANSWER_WIDE_AREA_REQUEST,
                # Builds 本人確認情報 and certificate content for the network and the counter.
                Permission.VIEW_MY_NUMBER,
                Permission.VIEW_RESIDENT_CODE,
                Permission.VIEW_HONSEKI,
                Permission.VIEW_RESIDENCE_STATUS,
                # The relay's question: whose working card is this serial (a kiosk request).
                Permission.RESOLVE_CARD,
                # 期限切れ of provisional changes no supervisor decided in time.
                Permission.EXPIRE_CHANGES,
            }
        ),
    }
)

# Every operator enrols their own 照合情報 (with the code the アクセス管理責任者 handed over); the
# node itself, the kiosk relay (a node too) and a store's kiosks have none.
NODE_ROLES: Final = frozenset(
    {
        Role.SYSTEM,
        Role.KIOSK_RELAY,
        Role.KIOSK_STORE,
        Role.AGENCY,
        Role.PORTAL_RELAY,
        Role.RESIDENT_PORTAL,
    }
)
ROLE_PERMISSIONS: Final = MappingProxyType(
    {
        role: perms if role in NODE_ROLES else perms | {Permission.REGISTER_VERIFIER}
        for role, perms in _TABLE.items()
    }
)


def is_allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


# The record items each visibility permission shows; a view without the permission hides them.
SENSITIVE_ITEMS: Final = MappingProxyType(
    {
        Permission.VIEW_MY_NUMBER: ("my_number",),
        Permission.VIEW_RESIDENT_CODE: ("resident_code",),
        Permission.VIEW_HONSEKI: ("honseki", "koseki_head"),
        Permission.VIEW_RESIDENCE_STATUS: (
            "residence_status",
            "period_of_stay",
            "stay_expiry",
            "residence_card_number",
        ),
    }
)


def hidden_items(role: Role) -> frozenset[str]:
    """The record items `role` may not see."""
    return frozenset(
        item
        for permission, items in SENSITIVE_ITEMS.items()
        if not is_allowed(role, permission)
        for item in items
    )


def authorize(actor_id: str, role: Role, permission: Permission) -> None:
    if not is_allowed(role, permission):
        raise PermissionDeniedError(actor_id, permission.value)
