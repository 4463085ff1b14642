"""The one place where the registry API turns errors into HTTP responses.

Rule violations become 422 in the same shape as FastAPI's own request-validation errors, so a
client handles one format whether pydantic or the domain refused the request; each entry adds
`msg_ja` because the terminal shows Japanese. Other deliberate errors share `ErrorOut`.
Bodies never echo the rejected input: it may be a 個人番号.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

import sqlalchemy as sa
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from juki.core.errors import (
    ConcurrentChangeError,
    JukiError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolation,
    StateConflictError,
)
from juki.web.schemas import ErrorOut, FieldErrorOut, ValidationErrorOut
from juki.web.text import FORBIDDEN_CHARACTER, MESSAGE_JA

log = structlog.get_logger("juki.web")


class AuthenticationRequired(JukiError):
    """No bearer token, or one that stands for no one now; `reason` says why (the 401's type)."""

    message_en = "a valid bearer token is required"
    message_ja = "操作者の認証が必要です。再度ログインしてください"
    # The 401's type for each reason `juki.security.operators.check_token` gives: an operator
    # told "expired" asks for a new token instead of retyping the old one.
    TYPES: Final = {
        "expired": "token_expired",
        "revoked": "token_revoked",
        "inactive": "operator_inactive",
        "locked": "operator_locked",
    }

    def __init__(
        self, reason: str = "unknown", message_en: str | None = None, message_ja: str | None = None
    ) -> None:
        self.reason = reason
        if message_en is not None:
            self.message_en = message_en
        if message_ja is not None:
            self.message_ja = message_ja
        super().__init__(self.message_en)

    @property
    def type(self) -> str:
        return self.TYPES.get(self.reason, "authentication_required")


_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


def _loc_root(request: Request, field: str) -> str:
    """Where a domain field came from: a path parameter, the query string or the body."""
    if field.split(".", 1)[0] in request.path_params:
        return "path"
    return "body" if request.method in _BODY_METHODS else "query"


def rule_violation_body(request: Request, exc: RuleViolation) -> dict[str, Any]:
    loc: list[str | int] = [_loc_root(request, exc.field), *exc.field.split(".")]
    item = FieldErrorOut(loc=loc, type=exc.rule, msg=exc.message_en, msg_ja=exc.message_ja)
    return ValidationErrorOut(detail=[item]).model_dump()


@contextmanager
def renamed_fields(names: Mapping[str, str]) -> Iterator[None]:
    """Re-label a rule violation with the request's name for the field it is about.

    The domain names fields as commands see them (`effective_on`, `birth_date`, `image_png`);
    a client needs the path in the body it sent (`died_on`, `person.birth_date`,
    `image_png_base64`) to point at the right input, as pydantic's own errors do.
    """
    try:
        yield
    except RuleViolation as exc:
        name = names.get(exc.field)
        if name is None:
            raise
        raise type(exc)(name, exc.rule, exc.message_en, exc.message_ja) from exc


# Japanese for the pydantic error types a client is likely to cause; anything else gets the
# generic message. Keys are pydantic-core error types.
_PYDANTIC_JA: Final = {
    "missing": "必須項目です",
    "extra_forbidden": "この項目は指定できません",
    "string_too_long": "文字数が多すぎます",
    "string_too_short": "入力してください",
    "string_pattern_mismatch": "形式が正しくありません",
    "string_type": "文字列で指定してください",
    "too_long": "指定できる件数を超えています",
    "too_short": "1件以上指定してください",
    "date_from_datetime_parsing": "日付はYYYY-MM-DD形式で指定してください",
    "date_parsing": "日付はYYYY-MM-DD形式で指定してください",
    "date_type": "日付はYYYY-MM-DD形式で指定してください",
    "enum": "選択肢にない値です",
    "literal_error": "選択肢にない値です",
    "union_tag_invalid": "選択肢にない値です",
    "union_tag_not_found": "種類（kind）を指定してください",
    "bool_parsing": "true または false で指定してください",
    "bool_type": "true または false で指定してください",
    "int_parsing": "整数で指定してください",
    "less_than_equal": "値が大きすぎます",
    "greater_than_equal": "値が小さすぎます",
    "json_invalid": "JSONの形式が正しくありません",
    "model_attributes_type": "オブジェクトで指定してください",
    "dict_type": "オブジェクトで指定してください",
    "list_type": "配列で指定してください",
    "base64": "Base64の形式が正しくありません",
    FORBIDDEN_CHARACTER: MESSAGE_JA,
    "string_unicode": MESSAGE_JA,  # pydantic's own refusal of a lone surrogate
}
_DEFAULT_JA: Final = "入力内容が正しくありません"


def request_validation_body(errors: Sequence[Any]) -> dict[str, Any]:
    items = [
        FieldErrorOut(
            loc=[p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            type=str(e.get("type", "invalid")),
            msg=str(e.get("msg", "")),
            msg_ja=_PYDANTIC_JA.get(str(e.get("type")), _DEFAULT_JA),
        )
        for e in errors
    ]
    return ValidationErrorOut(detail=items).model_dump()


def _error(status: int, type_: str, en: str, ja: str, **kw: Any) -> JSONResponse:
    body = ErrorOut(detail=en, type=type_, msg_ja=ja).model_dump()
    return JSONResponse(status_code=status, content=body, **kw)


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content=request_validation_body(exc.errors()))


async def _on_rule_violation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleViolation)
    return JSONResponse(status_code=422, content=rule_violation_body(request, exc))


async def _on_not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFoundError)
    return _error(404, "not_found", exc.message_en, exc.message_ja)


async def _on_permission_denied(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PermissionDeniedError)
    return _error(403, "permission_denied", exc.message_en, exc.message_ja)


async def _on_concurrent_change(request: Request, exc: Exception) -> JSONResponse:
    return _error(
        409,
        "concurrent_change",
        "another request changed the same record first; reload and try again",
        "他の操作で同じ住民票が更新されました。画面を更新してやり直してください",
    )


async def _on_state_conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StateConflictError)
    return _error(409, exc.rule, exc.message_en, exc.message_ja)


# PostgreSQL's deadlock_detected, serialization_failure and lock_not_available: the transaction
# lost a race and was rolled back whole, so the client may simply try again.
_TRANSIENT_SQLSTATES: Final = frozenset({"40P01", "40001", "55P03"})


def is_transient(exc: sa.exc.DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _TRANSIENT_SQLSTATES:
        return True
    return isinstance(exc, sa.exc.OperationalError) and "database is locked" in str(exc.orig)


# PostgreSQL's query_canceled (a statement past its timeout: a hot standby that stalled),
# admin_shutdown and cannot_connect_now; and every connection exception (class 08).
_UNAVAILABLE_SQLSTATES: Final = frozenset({"57014", "57P01", "57P03"})


def is_unavailable(exc: sa.exc.DBAPIError) -> bool:
    """The database did not answer (a timeout, a lost connection), not the request that was
    wrong: nothing was changed, and the same request may succeed later."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return (
        sqlstate in _UNAVAILABLE_SQLSTATES
        or sqlstate.startswith("08")
        or bool(getattr(exc, "connection_invalidated", False))
    )


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, sa.exc.DBAPIError)
    if is_transient(exc):
        return await _on_concurrent_change(request, exc)
    if is_unavailable(exc):
        log.warning("database unavailable", path=request.url.path, error=type(exc.orig).__name__)
        return _error(
            503,
            "database_unavailable",
            "the database did not answer in time; nothing was changed, try again shortly",
            "データベースが応答しませんでした。変更は行われていません。しばらくしてからやり直してください",
            headers={"Retry-After": "5"},
        )
    log.error("database error", path=request.url.path, error=type(exc.orig).__name__)
    return _error(
        500,
        "storage_error",
        "the database could not complete the request; nothing was changed",
        "データベースで処理できませんでした。変更は行われていません",
    )


async def _on_unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthenticationRequired)
    return _error(
        401, exc.type, exc.message_en, exc.message_ja, headers={"WWW-Authenticate": "Bearer"}
    )


async def _on_other_juki_error(request: Request, exc: Exception) -> JSONResponse:
    """A deliberate refusal that has no mapping of its own yet: still the client's to fix."""
    return _error(400, "rejected", str(exc), "この操作は受け付けられませんでした")


def install_error_handlers(app: FastAPI) -> None:
    # Starlette picks the handler of the nearest class in the exception's MRO, so the
    # JukiError fallback only catches what the specific handlers do not.
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(RuleViolation, _on_rule_violation)
    app.add_exception_handler(NotFoundError, _on_not_found)
    app.add_exception_handler(PermissionDeniedError, _on_permission_denied)
    app.add_exception_handler(ConcurrentChangeError, _on_concurrent_change)
    app.add_exception_handler(StateConflictError, _on_state_conflict)
    app.add_exception_handler(sa.exc.DBAPIError, _on_database_error)
    app.add_exception_handler(AuthenticationRequired, _on_unauthenticated)
    app.add_exception_handler(JukiError, _on_other_juki_error)


Responses = dict[int | str, dict[str, Any]]


def _doc(status: int, description: str, model: type[Any]) -> Responses:
    return {status: {"description": description, "model": model}}


RESPONSES_401: Final = _doc(401, "No valid bearer token (認証が必要です)", ErrorOut)
RESPONSES_403: Final = _doc(403, "The operator's role does not allow this (権限なし)", ErrorOut)
RESPONSES_404: Final = _doc(404, "A record, household or seal was not found", ErrorOut)
RESPONSES_409: Final = _doc(
    409,
    "A concurrent change won (retry the action), or the state refuses it for now: another "
    "operator holds the edit lock, the provisional change was already decided or its record "
    "changed since (`type` says which)",
    ErrorOut,
)
RESPONSES_422: Final = _doc(
    422,
    "Input refused by validation or by a registry rule: `loc` names the field, `type` the rule; "
    "`msg` is English and `msg_ja` Japanese",
    ValidationErrorOut,
)
READ_RESPONSES: Final[Responses] = {
    **RESPONSES_401,
    **RESPONSES_403,
    **RESPONSES_404,
    **RESPONSES_422,
}
WRITE_RESPONSES: Final[Responses] = {**READ_RESPONSES, **RESPONSES_409}
