"""The requester's items on the counter's issuance form: a third party's 申出 (第12条の3).

Posted beside the request and kept as posted (so a refused form comes back filled in); turned
into a `ThirdPartyRequest` only when the requester is a third party. The shape of a choice is
checked here, naming the field; whether a purpose or a document is missing is the rules' to say
(`juki.certificates.third_party.checked`), with the same field names.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Any, Final

from fastapi import Form

from juki.certificates.third_party import (
    IdDocument,
    Qualification,
    RequestBasis,
    ThirdPartyRequest,
)
from juki.core.errors import ValidationError
from juki.web.text import CleanStr

# What the templates offer (value, label), in the order a clerk reads them.
BASES: Final = tuple((b.value, f"{b.label_ja}（{b.article}）") for b in RequestBasis)
QUALIFICATIONS: Final = tuple((q.value, q.label_ja) for q in Qualification)
ID_DOCUMENTS: Final = tuple((d.value, d.label_ja) for d in IdDocument)


def _choice(field: str, value: str, kind: Any, message_ja: str) -> Any:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise ValidationError(
            f"third_party.{field}", "invalid", f"{field} is not a known choice", message_ja
        ) from None


@dataclass(frozen=True, slots=True)
class RequesterForm:
    """A third party's items as posted (all empty for the person or their household)."""

    tp_basis: str = ""
    tp_purpose: str = ""
    tp_name: str = ""
    tp_address: str = ""
    tp_corporation: str = ""
    tp_in_charge: str = ""
    tp_qualification: str = ""
    tp_registration: str = ""
    tp_client: str = ""
    tp_document: str = ""
    tp_document_number: str = ""

    def hidden(self) -> list[tuple[str, str]]:
        """The posted values, for the confirm screen to post again."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

    def to_third_party(self) -> ThirdPartyRequest:
        basis = _choice("basis", self.tp_basis, RequestBasis, "請求の根拠を選択してください")
        if basis is None:
            raise ValidationError(
                "third_party.basis",
                "required",
                "choose the paragraph the request stands on",
                "第三者請求の根拠（第12条の3第1項各号・第2項）を選択してください",
            )
        return ThirdPartyRequest(
            basis=basis,
            purpose=self.tp_purpose,
            requester_name=self.tp_name,
            requester_address=self.tp_address,
            id_document=_choice(
                "id_document", self.tp_document, IdDocument, "本人確認書類を選択してください"
            ),
            id_document_number=self.tp_document_number,
            corporation=bool(self.tp_corporation),
            person_in_charge=self.tp_in_charge,
            qualification=_choice(
                "qualification", self.tp_qualification, Qualification, "資格を選択してください"
            ),
            registration_number=self.tp_registration,
            client_name=self.tp_client,
        )


def requester_form(
    tp_basis: Annotated[CleanStr, Form(max_length=32)] = "",
    tp_purpose: Annotated[CleanStr, Form(max_length=400)] = "",
    tp_name: Annotated[CleanStr, Form(max_length=160)] = "",
    tp_address: Annotated[CleanStr, Form(max_length=320)] = "",
    tp_corporation: Annotated[CleanStr, Form(max_length=4)] = "",
    tp_in_charge: Annotated[CleanStr, Form(max_length=160)] = "",
    tp_qualification: Annotated[CleanStr, Form(max_length=32)] = "",
    tp_registration: Annotated[CleanStr, Form(max_length=80)] = "",
    tp_client: Annotated[CleanStr, Form(max_length=160)] = "",
    tp_document: Annotated[CleanStr, Form(max_length=32)] = "",
    tp_document_number: Annotated[CleanStr, Form(max_length=80)] = "",
) -> RequesterForm:
    return RequesterForm(
        tp_basis=tp_basis,
        tp_purpose=tp_purpose,
        tp_name=tp_name,
        tp_address=tp_address,
        tp_corporation=tp_corporation,
        tp_in_charge=tp_in_charge,
        tp_qualification=tp_qualification,
        tp_registration=tp_registration,
        tp_client=tp_client,
        tp_document=tp_document,
        tp_document_number=tp_document_number,
    )
