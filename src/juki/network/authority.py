"""Who may send each message type, to whom: one rule per type, checked on receipt.

A signature proves who sent a message, not that the sender may say it. A municipality's CS must
not report another municipality's residents, a prefecture must not allot resident codes, and a
move-in notice must come from the municipality the person moved to. Each rule names the kinds
of node that may send and receive the type and a check of the body against the signed sender;
the receiver refuses and records anything else before a handler sees it (`Receiver._apply_in`,
and `Node.answer` for queries). Rules that need the registry (a move-in notice must come from
the destination the old municipality recorded) live in the handler and raise `NotAuthorised`.

docs/network.md lists these rules; `tests/unit/network/test_sender_rules.py` checks every type has
one and `tests/integration/nodes/test_sender_authority.py` sends each type from a node without
authority.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from juki.network.card_messages import CARD_CERTIFICATE_REQUEST, CARD_CERTIFICATE_RESPONSE
from juki.network.directory import Directory, NodeKind
from juki.network.disclosure_messages import (
    DISCLOSURE_ANSWER,
    DISCLOSURE_REQUEST,
    IDENTITY_DISCLOSURE_ANSWER,
    IDENTITY_DISCLOSURE_REQUEST,
    PORTAL_ACTION_ANSWER,
    PORTAL_ACTION_REQUEST,
)
from juki.network.envelope import Envelope
from juki.network.fuhyo_link_messages import FUHYO_IDENTITY_INFO_CHANGED, FUHYO_IDENTITY_SNAPSHOT
from juki.network.identity_runs import IDENTITY_INFO_CHANGES
from juki.network.kiosk_messages import (
    KIOSK_ANSWER,
    KIOSK_KEY_REQUEST,
    KIOSK_KEY_RESPONSE,
    KIOSK_OFFER,
    KIOSK_OFFER_REQUEST,
    KIOSK_REQUEST,
    KIOSK_VOID,
)
from juki.network.messages import (
    FUHYO_NOTICE,
    IDENTITY_INFO_CHANGED,
    IDENTITY_SNAPSHOT,
    LINK_SKIP,
    MOVE_IN_NOTICE,
    MOVE_OUT_CERTIFICATE_INFO,
    MOVE_OUT_WITHDRAWN,
    MY_NUMBER_ASSIGNED,
    MY_NUMBER_REQUEST,
    OPLOG_CHECKPOINT,
    RESIDENT_CODE_ALLOTMENT,
    RESIDENT_CODE_CHANGED,
    SCHEMAS,
)
from juki.network.wide_area_messages import (
    CERTIFICATE_CONTENT_REQUEST,
    CERTIFICATE_CONTENT_RESPONSE,
)

MUNICIPALITY, PREFECTURE, NATIONAL = NodeKind.MUNICIPALITY, NodeKind.PREFECTURE, NodeKind.NATIONAL


class NotAuthorised(Exception):
    """A genuine message its sender had no authority to send: refused and recorded."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# (envelope, parsed body, directory, this node's id) → why the sender may not say this, or None
BodyCheck = Callable[[Envelope, Any, Directory, str], str | None]


@dataclass(frozen=True, slots=True)
class Authority:
    senders: frozenset[NodeKind]
    receivers: frozenset[NodeKind]
    rule: str  # what docs/network.md says, in one line
    check: BodyCheck

    def refusal(self, env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
        sender, receiver = directory.get(env.sender), directory.get(here)
        if sender is None or sender.kind not in self.senders:
            kind = sender.kind.value if sender else "unknown"
            return f"a {kind} node may not send {env.message_type}"
        if receiver is None or receiver.kind not in self.receivers:
            kind = receiver.kind.value if receiver else "unknown"
            return f"{env.message_type} is not sent to a {kind} node"
        return self.check(env, body, directory, here)


def _parent_of(directory: Directory, node_id: str) -> str | None:
    entry = directory.get(node_id)
    return entry.parent if entry else None


def _reported_up(lg_code_of: Callable[[Any], str]) -> BodyCheck:
    """identity_info goes up its own chain: a municipality reports only its own residents, to
    its prefecture; a prefecture passes on only its municipalities' reports, to national."""

    def check(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
        lg_code = lg_code_of(body)
        sender = directory.get(env.sender)
        if sender is not None and sender.kind is MUNICIPALITY:
            if lg_code != env.sender:
                return f"{env.sender} reported residents of {lg_code}"
            if sender.parent != here:
                return f"{env.sender} reports to {sender.parent}, not {here}"
            return None
        if _parent_of(directory, lg_code) != env.sender:
            return f"{env.sender} is not the prefecture of {lg_code}"
        return None

    return check


def _municipality_at(directory: Directory, address: str) -> str | None:
    entry = directory.municipality_at(address)
    return entry.node_id if entry else None


def _move_out_info(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    if body.from_lg_code != env.sender or body.identity.lg_code != env.sender:
        return f"{env.sender} sent the move-out of a resident of {body.from_lg_code}"
    if body.to_lg_code != here:
        return f"the destination is {body.to_lg_code}, not {here}"
    return None


def _move_in_notice(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    if body.to_lg_code != env.sender:
        return f"{env.sender} sent a move-in to {body.to_lg_code}"
    if body.from_lg_code != here:
        return f"the move-out municipality is {body.from_lg_code}, not {here}"
    if _municipality_at(directory, body.new_address) != env.sender:
        return f"the new address is not in {env.sender}'s area"
    return None


def _move_out_withdrawn(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    """Only the municipality that recorded the move-out withdraws it, and only to the
    destination it sent the 転出証明書情報 to (the handler checks that information is held
    from the sender: `juki.nodes.moves.withdraw_move_out`)."""
    if body.from_lg_code != env.sender:
        return f"{env.sender} withdrew a move-out recorded by {body.from_lg_code}"
    if body.to_lg_code != here:
        return f"the destination is {body.to_lg_code}, not {here}"
    return None


def _fuhyo_notice(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    if body.from_lg_code != env.sender:
        return f"{env.sender} sent a 附票 notice as {body.from_lg_code}"
    if _municipality_at(directory, body.address) != env.sender:
        return f"the address is not in {env.sender}'s area: only where the person lives notifies"
    if _municipality_at(directory, body.honseki) != here:
        return "the 本籍 is not in this municipality"
    return None


def _my_number_request(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    return None if body.lg_code == env.sender else f"{env.sender} asked for {body.lg_code}"


def _for_here(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    return None if body.lg_code == here else f"for {body.lg_code}, not {here}"


def _content_request(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    if body.from_lg_code != env.sender:
        return f"{env.sender} asked as {body.from_lg_code}"
    return None if body.to_lg_code == here else f"asked of {body.to_lg_code}, not {here}"


def _content_response(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    if body.from_lg_code != env.sender:
        return f"{env.sender} answered as {body.from_lg_code}"
    return None if body.to_lg_code == here else f"answered to {body.to_lg_code}, not {here}"


def _card_request(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    """A municipality asks as itself; that the resident is its own (or, for a card's holder,
    lived there) is the national handler's check against its identity index."""
    return None if body.lg_code == env.sender else f"{env.sender} asked as {body.lg_code}"


def _as_itself(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    return None if body.lg_code == env.sender else f"{env.sender} answered as {body.lg_code}"


def _own_checkpoint(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    if body.node_id != env.sender:
        return f"{env.sender} sent a checkpoint of {body.node_id}'s log"
    parent = _parent_of(directory, env.sender)
    return None if parent == here else f"{env.sender} reports to {parent}, not {here}"


def _of_its_municipality(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    """The portal relay asks a prefecture only about a resident of one of its municipalities."""
    parent = _parent_of(directory, body.lg_code)
    return None if parent == here else f"{body.lg_code} is {parent}'s, not {here}'s"


def _prefecture_itself(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    return None if body.node_id == env.sender else f"{env.sender} answered as {body.node_id}"


def _any(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    return None


def _kinds(*kinds: NodeKind) -> frozenset[NodeKind]:
    return frozenset(kinds)


ALL_KINDS: Final = _kinds(MUNICIPALITY, PREFECTURE, NATIONAL)

AUTHORITY: Final[Mapping[str, Authority]] = {
    IDENTITY_INFO_CHANGED: Authority(
        _kinds(MUNICIPALITY, PREFECTURE),
        _kinds(PREFECTURE, NATIONAL),
        "a municipality for its own residents, to its prefecture; that prefecture, to national",
        _reported_up(lambda b: b.identity.lg_code),
    ),
    IDENTITY_INFO_CHANGES: Authority(
        _kinds(MUNICIPALITY, PREFECTURE),
        _kinds(PREFECTURE, NATIONAL),
        "as identity_info_changed: every change is of lg_code (the schema holds them to it)",
        _reported_up(lambda b: b.lg_code),
    ),
    IDENTITY_SNAPSHOT: Authority(
        _kinds(MUNICIPALITY, PREFECTURE),
        _kinds(PREFECTURE, NATIONAL),
        "a municipality for its own residents, to its prefecture; that prefecture, to national",
        _reported_up(lambda b: b.lg_code),
    ),
    FUHYO_IDENTITY_INFO_CHANGED: Authority(
        _kinds(MUNICIPALITY, PREFECTURE),
        _kinds(PREFECTURE, NATIONAL),
        "the 本籍 municipality, of its own 附票 (lg_code), to its prefecture; that prefecture, "
        "to national",
        _reported_up(lambda b: b.fuhyo_identity.lg_code),
    ),
    FUHYO_IDENTITY_SNAPSHOT: Authority(
        _kinds(MUNICIPALITY, PREFECTURE),
        _kinds(PREFECTURE, NATIONAL),
        "the 本籍 municipality, of its own 附票 (lg_code), to its prefecture; that prefecture, "
        "to national",
        _reported_up(lambda b: b.lg_code),
    ),
    MOVE_OUT_CERTIFICATE_INFO: Authority(
        _kinds(MUNICIPALITY),
        _kinds(MUNICIPALITY),
        "the municipality the person leaves (from_lg_code, its own resident), "
        "to the destination named (to_lg_code)",
        _move_out_info,
    ),
    MOVE_IN_NOTICE: Authority(
        _kinds(MUNICIPALITY),
        _kinds(MUNICIPALITY),
        "the new municipality (to_lg_code), for an address in its own area, to the old one "
        "(from_lg_code), which accepts it only from the destination its move-out recorded",
        _move_in_notice,
    ),
    MOVE_OUT_WITHDRAWN: Authority(
        _kinds(MUNICIPALITY),
        _kinds(MUNICIPALITY),
        "the municipality that recorded the card-based move-out (from_lg_code), to the "
        "destination it sent the 転出証明書情報 to (to_lg_code), which holds it from the sender",
        _move_out_withdrawn,
    ),
    FUHYO_NOTICE: Authority(
        _kinds(MUNICIPALITY),
        _kinds(MUNICIPALITY),
        "the municipality where the person lives (the address is in its area), "
        "to the municipality of the 本籍",
        _fuhyo_notice,
    ),
    MY_NUMBER_REQUEST: Authority(
        _kinds(MUNICIPALITY),
        _kinds(NATIONAL),
        "a municipality for its own residents (lg_code), to national",
        _my_number_request,
    ),
    MY_NUMBER_ASSIGNED: Authority(
        _kinds(NATIONAL),
        _kinds(MUNICIPALITY),
        "national, to the municipality named (lg_code)",
        _for_here,
    ),
    RESIDENT_CODE_ALLOTMENT: Authority(
        _kinds(NATIONAL),
        _kinds(MUNICIPALITY),
        "national, to the municipality named (lg_code)",
        _for_here,
    ),
    RESIDENT_CODE_CHANGED: Authority(
        _kinds(MUNICIPALITY, PREFECTURE),
        _kinds(PREFECTURE, NATIONAL),
        "the municipality holding the resident (identity.lg_code), to its prefecture; that "
        "prefecture, to national; each level refuses it unless its copy of the former code is "
        "that municipality's active resident",
        _reported_up(lambda b: b.identity.lg_code),
    ),
    LINK_SKIP: Authority(
        ALL_KINDS,
        ALL_KINDS,
        "any node, about its own link to the receiver (numbers only, no content)",
        _any,
    ),
    OPLOG_CHECKPOINT: Authority(
        _kinds(MUNICIPALITY, PREFECTURE),
        _kinds(PREFECTURE, NATIONAL),
        "a node, about its own operation log, to its parent (a municipality to its "
        "prefecture, a prefecture to national)",
        _own_checkpoint,
    ),
    CERTIFICATE_CONTENT_REQUEST: Authority(
        _kinds(MUNICIPALITY),
        _kinds(MUNICIPALITY),
        "a municipality's counter (from_lg_code), to the municipality of residence "
        "(to_lg_code); a query",
        _content_request,
    ),
    CERTIFICATE_CONTENT_RESPONSE: Authority(
        _kinds(MUNICIPALITY),
        _kinds(MUNICIPALITY),
        "the municipality asked (from_lg_code), to the one that asked (to_lg_code); "
        "the answer to a query",
        _content_response,
    ),
    CARD_CERTIFICATE_REQUEST: Authority(
        _kinds(MUNICIPALITY),
        _kinds(NATIONAL),
        "a municipality (lg_code), as itself, to the national card CA; a query (the handler "
        "checks the resident is that municipality's in the identity index)",
        _card_request,
    ),
    CARD_CERTIFICATE_RESPONSE: Authority(
        _kinds(NATIONAL),
        _kinds(MUNICIPALITY),
        "the national card CA, to the municipality that asked (lg_code); the answer to a query",
        _for_here,
    ),
    KIOSK_KEY_REQUEST: Authority(
        _kinds(NATIONAL),
        _kinds(MUNICIPALITY),
        "the national relay, to the municipality named (lg_code); a query",
        _for_here,
    ),
    KIOSK_KEY_RESPONSE: Authority(
        _kinds(MUNICIPALITY),
        _kinds(NATIONAL),
        "the municipality asked, of its own key (lg_code = sender), to national; an answer",
        _as_itself,
    ),
    KIOSK_REQUEST: Authority(
        _kinds(NATIONAL),
        _kinds(MUNICIPALITY),
        "the national relay, to the municipality that issued the card (lg_code); a query "
        "(the municipality answers only for a working card of its own resident)",
        _for_here,
    ),
    KIOSK_ANSWER: Authority(
        _kinds(MUNICIPALITY),
        _kinds(NATIONAL),
        "the municipality asked (lg_code = sender), to the national relay; an answer",
        _as_itself,
    ),
    KIOSK_VOID: Authority(
        _kinds(NATIONAL),
        _kinds(MUNICIPALITY),
        "the national relay, to the municipality that answered the request (lg_code); the "
        "handler voids only a request registered with the same request id and card serial",
        _for_here,
    ),
    KIOSK_OFFER_REQUEST: Authority(
        _kinds(NATIONAL),
        _kinds(MUNICIPALITY),
        "the national relay, to the municipality named (lg_code); a query (nothing personal: "
        "the kinds, fees and hours its kiosks offer now)",
        _for_here,
    ),
    KIOSK_OFFER: Authority(
        _kinds(MUNICIPALITY),
        _kinds(NATIONAL),
        "the municipality asked, of its own offer (lg_code = sender), to national; an answer",
        _as_itself,
    ),
    DISCLOSURE_REQUEST: Authority(
        _kinds(NATIONAL),
        _kinds(MUNICIPALITY),
        "the national portal relay, having checked the card holder's signature, to the "
        "municipality that issued the card (lg_code); a query (answered only for a working card "
        "of its own resident)",
        _for_here,
    ),
    DISCLOSURE_ANSWER: Authority(
        _kinds(MUNICIPALITY),
        _kinds(NATIONAL),
        "the municipality asked (lg_code = sender), to the national portal relay; an answer",
        _as_itself,
    ),
    IDENTITY_DISCLOSURE_REQUEST: Authority(
        _kinds(NATIONAL),
        _kinds(PREFECTURE),
        "the national portal relay, to the prefecture of the municipality that answered for the "
        "card holder (lg_code); a query about that one resident code",
        _of_its_municipality,
    ),
    IDENTITY_DISCLOSURE_ANSWER: Authority(
        _kinds(PREFECTURE),
        _kinds(NATIONAL),
        "the prefecture asked (node_id = sender), to the national portal relay; an answer",
        _prefecture_itself,
    ),
    PORTAL_ACTION_REQUEST: Authority(
        _kinds(NATIONAL),
        _kinds(MUNICIPALITY),
        "the national portal relay, for the card holder it checked, to the municipality that "
        "issued the card (lg_code); a query (本人通知 registration, a correction request)",
        _for_here,
    ),
    PORTAL_ACTION_ANSWER: Authority(
        _kinds(MUNICIPALITY),
        _kinds(NATIONAL),
        "the municipality asked (lg_code = sender), to the national portal relay; an answer",
        _as_itself,
    ),
}


def refusal(env: Envelope, body: Any, directory: Directory, here: str) -> str | None:
    """Why `env.sender` may not send this to `here`, or None when it may."""
    authority = AUTHORITY.get(env.message_type)
    if authority is None:
        return f"no rule names who may send {env.message_type}"
    return authority.refusal(env, body, directory, here)


def message_types_without_rule() -> set[str]:
    return {name for name, _version in SCHEMAS} - set(AUTHORITY)
