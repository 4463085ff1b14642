"""Wide-area issuance (広域交付) between two municipalities' CSs, over `Transport.query`.

B's CS (`CsContentSource`, the certificates' `ContentSource` port) asks A's CS with a signed
`certificate_content_request`; A's CS (`answer_content_request`) runs the certificate service
as its system actor and answers with a signed `certificate_content_response`: the content, or
the rule that refused it. Both envelopes pass the receiver's checks; B also binds the answer to
its question (request id, subject, municipalities) before a certificate service sees it.

Every failure on B's side becomes a `WideAreaRefused` naming the rule, with a Japanese message
for the counter: A disconnected (離脱) or unknown in the directory, A unreachable, A refusing the
envelope, an answer that fails verification, or A's own refusal.
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING, Any

import pydantic
import structlog

from juki.certificates.document import ContentFormatError, content_from_json, content_to_json
from juki.certificates.model import OptionalItem
from juki.certificates.ports import SuppliedContent, WideAreaAsk, WideAreaReplay
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.certificates.wide_area import (
    WideAreaQuestion,
    WideAreaRefused,
    answer_wide_area_request,
)
from juki.core.errors import JukiError
from juki.network.directory import DirectoryError, NodeKind, NodeStatus
from juki.network.envelope import Envelope
from juki.network.transport import QueryRefused, TransportError
from juki.network.wide_area_messages import (
    CERTIFICATE_CONTENT_RESPONSE,
    CertificateContentRequest,
    CertificateContentResponse,
    WideAreaContent,
)
from juki.nodes.queries import AnswerRejected, QueryRejected

if TYPE_CHECKING:
    from juki.nodes.municipality import MunicipalityNode

log = structlog.get_logger("juki.nodes.wide_area")


class _RngIds:
    """Certificate-side ids from the node's random source (as the node's handlers use)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


# -- A: answering --------------------------------------------------------------------------------


def answer_content_request(
    node: MunicipalityNode, env: Envelope, body: Any
) -> CertificateContentResponse:
    """A's CS: the content of one of its residents for B's counter, or why not."""
    request: CertificateContentRequest = body
    # who may ask (a municipality, as itself, of this one): `juki.network.authority`
    question = WideAreaQuestion(
        request_id=env.message_id,
        requesting_lg_code=env.sender,
        requested_by=request.operator_id,
        resident_code=request.resident_code,
        members=request.members if request.members == "all" else tuple(request.members),
        items=frozenset(OptionalItem(i) for i in request.items),
    )
    uow = SqlCertificateUnitOfWork(node.engine, clock=node.clock, ids=_RngIds(node.rng))
    common = {
        "request_id": env.message_id,
        "resident_code": request.resident_code,
        "from_lg_code": node.node_id,
        "to_lg_code": env.sender,
    }
    try:
        content = answer_wide_area_request(uow, node.system_actor(), question)
    except WideAreaReplay as exc:
        # Also the loser of two identical requests answered at once: refused, not a 503.
        raise QueryRejected("replay", f"request {env.message_id} was answered before") from exc
    except WideAreaRefused as exc:
        return CertificateContentResponse(
            **common,
            outcome="refused",
            rule=exc.rule,
            message_en=exc.message_en[:300],
            message_ja=exc.message_ja[:300],
        )
    except JukiError as exc:
        log.error("wide-area request failed", node=node.node_id, error=type(exc).__name__)
        return CertificateContentResponse(
            **common,
            outcome="refused",
            rule="not_answered",
            message_en=f"the home municipality could not answer: {type(exc).__name__}",
            message_ja="住所地の市区町村で回答を作成できませんでした",
        )
    return CertificateContentResponse(
        **common,
        outcome="answered",
        content=WideAreaContent.model_validate(content_to_json(content)),
    )


# -- B: asking -----------------------------------------------------------------------------------


def _refused(rule: str, message_en: str, message_ja: str) -> WideAreaRefused:
    return WideAreaRefused("from_lg_code", rule, message_en, message_ja)


class CsContentSource:
    """B's CS as the certificates' `ContentSource`: ask A, verify, bind, hand over."""

    def __init__(self, node: MunicipalityNode) -> None:
        self.node = node

    def fetch(self, ask: WideAreaAsk) -> SuppliedContent:
        home = ask.home_lg_code
        name = self._home_name(home)
        request, response = self._ask(home, name, self._question(ask))
        return self._supplied(ask, name, request, response)

    def _home_name(self, home: str) -> str:
        """The home municipality's name, once both it and this one are on the network."""
        node = self.node
        if home == node.node_id:
            raise _refused(
                "own_municipality",
                "the resident lives here: issue at the counter instead",
                "当団体の住民です。通常の窓口交付で発行してください",
            )
        if node.is_disconnected():
            raise _refused(
                "own_disconnected",
                f"{node.node_id} is disconnected from the network",
                "当団体は住基ネットから離脱中のため、広域交付できません",
            )
        try:
            directory = node.directory()
        except DirectoryError as exc:
            raise _refused(
                "no_directory",
                f"no network directory: {exc}",
                "住基ネットのディレクトリを取得できないため、広域交付できません",
            ) from exc
        entry = directory.get(home)
        if entry is None or entry.kind is not NodeKind.MUNICIPALITY:
            raise _refused(
                "home_unknown",
                f"{home} is not a municipality on the network",
                f"地方公共団体コード {home} の市区町村は住基ネットにありません",
            )
        if entry.status is not NodeStatus.ACTIVE:
            raise _refused(
                "home_disconnected",
                f"{home} is disconnected from the network (directory status {entry.status})",
                f"住所地の{entry.name}は住基ネットから離脱中のため、広域交付できません",
            )
        return entry.name

    def _question(self, ask: WideAreaAsk) -> CertificateContentRequest:
        """The ask as the network's message, or refused if it does not fit the schema."""
        try:
            return CertificateContentRequest.model_validate(
                {
                    "resident_code": ask.resident_code,
                    "members": ask.members if ask.members == "all" else list(ask.members),
                    "items": list(ask.items),
                    "from_lg_code": self.node.node_id,
                    "to_lg_code": ask.home_lg_code,
                    "operator_id": ask.operator_id,
                }
            )
        except pydantic.ValidationError as exc:
            raise _refused(
                "request_not_sendable",
                f"the request does not fit the message schema: {exc.errors()[0]['msg']}",
                "この請求内容では住所地の市区町村に照会できません",
            ) from exc

    def _ask(
        self, home: str, name: str, question: CertificateContentRequest
    ) -> tuple[Envelope, CertificateContentResponse]:
        """Send the signed question; the envelope sent and A's verified answer."""
        try:
            request, _answer, body = self.node.ask(home, question, CERTIFICATE_CONTENT_RESPONSE)
        except TransportError as exc:
            log.warning("wide-area: home unreachable", home=home, error=str(exc))
            raise _refused(
                "home_unreachable",
                f"{home} could not be reached: {exc}",
                f"住所地の{name}に接続できません。時間をおいて再度お試しください",
            ) from exc
        except QueryRefused as exc:
            reply = exc.reply
            raise _refused(
                "home_refused_request",
                f"{home} refused the request: {reply.status.value} {reply.reason}",
                f"住所地の{name}が照会を受け付けませんでした（{reply.reason}）",
            ) from exc
        except AnswerRejected as exc:
            raise _refused(
                "answer_not_verified",
                f"the answer from {home} failed verification: {exc}",
                f"住所地の{name}からの回答を検証できないため、交付できません",
            ) from exc
        response: CertificateContentResponse = body
        return request, response

    def _supplied(
        self,
        ask: WideAreaAsk,
        name: str,
        request: Envelope,
        response: CertificateContentResponse,
    ) -> SuppliedContent:
        """A's answer bound to this question, and its content read; or why not."""
        home = ask.home_lg_code
        if (
            response.request_id != request.message_id
            or response.resident_code != ask.resident_code
            or response.from_lg_code != home
            or response.to_lg_code != self.node.node_id
        ):
            raise _refused(
                "answer_mismatch",
                f"the answer from {home} is not for this request or this person",
                f"住所地の{name}からの回答が照会と一致しないため、交付できません",
            )
        if response.outcome == "refused" or response.content is None:
            raise WideAreaRefused(
                "resident_code",
                response.rule or "refused",
                f"{home}: {response.message_en}",
                f"{name}: {response.message_ja}",
            )
        try:
            content = content_from_json(response.content.model_dump(mode="json"))
        except ContentFormatError as exc:
            raise _refused(
                "answer_not_verified",
                f"the content from {home} is not certificate content: {exc}",
                f"住所地の{name}からの回答を検証できないため、交付できません",
            ) from exc
        log.info("wide-area content received", home=home, request_id=request.message_id)
        return SuppliedContent(
            request_id=request.message_id,
            home_lg_code=home,
            home_name=name,
            resident_code=response.resident_code,
            content=content,
        )
