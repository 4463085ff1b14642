"""The error bodies every juki API shares (FastAPI's 422 shape, plus the Japanese message)."""

from __future__ import annotations

from pydantic import BaseModel


class FieldErrorOut(BaseModel):
    """One rejected field, in FastAPI's own 422 shape plus the Japanese message for the counter."""

    loc: list[str | int]
    type: str
    msg: str
    msg_ja: str


class ValidationErrorOut(BaseModel):
    detail: list[FieldErrorOut]


class ErrorOut(BaseModel):
    """401, 403, 404 and 409: a message in English, one in Japanese and a stable type code."""

    detail: str
    type: str
    msg_ja: str
