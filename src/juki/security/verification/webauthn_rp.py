"""The WebAuthn relying party (the `webauthn` library): 照合情報 is a credential of a platform
authenticator that verifies the operator (a fingerprint, a face, a PIN of the device); the
biometric never leaves the device, which is what seed 002's 不可逆演算 asks of 照合情報.

Registration requires a platform authenticator and user verification; sign-in requires user
verification and accepts only the operator's own credentials. The relying party's id is the
terminal's host name (`JUKI_WEBAUTHN_RP_ID`); the origin is checked against it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidCBORData,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from juki.security.verification.ports import NewCredential, StoredCredential
from juki.security.verification.rules import VerifierFailed

RP_NAME = "juki 住民基本台帳ネットワーク 統合端末"
_FAILURES = (
    InvalidRegistrationResponse,
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidCBORData,
    ValueError,
    KeyError,
    TypeError,
)


def _descriptors(ids: Sequence[str]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(i)) for i in ids]


class WebAuthnRelyingParty:
    def __init__(self, rp_id: str) -> None:
        self.rp_id = rp_id

    def _origin(self, origin: str) -> str:
        """The page's origin, when its host is the relying party's (or under it)."""
        host = urlsplit(origin).hostname or ""
        if host != self.rp_id and not host.endswith("." + self.rp_id):
            raise VerifierFailed(f"origin host {host[:64]!r} is not under {self.rp_id!r}")
        return origin

    def registration_options(
        self, operator_id: str, display_name: str, challenge: bytes, exclude: Sequence[str]
    ) -> Mapping[str, Any]:
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=RP_NAME,
            user_id=operator_id.encode("utf-8"),
            user_name=operator_id,
            user_display_name=display_name,
            challenge=challenge,
            authenticator_selection=AuthenticatorSelectionCriteria(
                authenticator_attachment=AuthenticatorAttachment.PLATFORM,
                resident_key=ResidentKeyRequirement.DISCOURAGED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=_descriptors(exclude),
        )
        loaded: dict[str, Any] = json.loads(options_to_json(options))
        return loaded

    def verify_registration(
        self, response: Mapping[str, Any], challenge: bytes, origin: str
    ) -> NewCredential:
        try:
            verified = verify_registration_response(
                credential=dict(response),
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self._origin(origin),
                require_user_verification=True,
            )
        except _FAILURES as exc:
            raise VerifierFailed(f"registration does not verify: {exc}"[:300]) from exc
        return NewCredential(
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count,
        )

    def authentication_options(
        self, challenge: bytes, credential_ids: Sequence[str]
    ) -> Mapping[str, Any]:
        options = generate_authentication_options(
            rp_id=self.rp_id,
            challenge=challenge,
            allow_credentials=_descriptors(credential_ids),
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        loaded: dict[str, Any] = json.loads(options_to_json(options))
        return loaded

    def verify_authentication(
        self,
        response: Mapping[str, Any],
        challenge: bytes,
        origin: str,
        credential: StoredCredential,
    ) -> int:
        try:
            verified = verify_authentication_response(
                credential=dict(response),
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self._origin(origin),
                credential_public_key=base64url_to_bytes(credential.public_key),
                credential_current_sign_count=credential.sign_count,
                require_user_verification=True,
            )
        except _FAILURES as exc:
            raise VerifierFailed(f"assertion does not verify: {exc}"[:300]) from exc
        return int(verified.new_sign_count)
