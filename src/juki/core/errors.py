"""Errors the domain raises on purpose.

Every error a user can cause carries both an English and a Japanese message: the English one goes
to logs and the operation log, the Japanese one is what the counter clerk sees. Messages never
echo a full identifier (個人番号 in particular) because ``str(exc)`` ends up in the operation log.
"""

from __future__ import annotations


class JukiError(Exception):
    """Base of every error raised deliberately by juki, so callers can tell them from bugs."""


class RuleViolation(JukiError):
    """A rejected request, naming the offending field and a short machine-readable rule code.

    The rule code (``"length"``, ``"check_digit"``, ``"future_date"`` …) is stable so that the web
    layer and tests can react to it without parsing messages.
    """

    def __init__(self, field: str, rule: str, message_en: str, message_ja: str) -> None:
        super().__init__(field, rule, message_en, message_ja)
        self.field = field
        self.rule = rule
        self.message_en = message_en
        self.message_ja = message_ja

    def __str__(self) -> str:
        return f"{self.field}: {self.message_en} [{self.rule}]"


class ValidationError(RuleViolation):
    """Input malformed on its own (bad check digit, wrong characters …), caught at the edge."""


class DomainRuleError(RuleViolation):
    """A well-formed request that the registry's rules forbid (e.g. moving out a removed record)."""


class NotFoundError(JukiError):
    """The thing a request refers to does not exist (or is not visible to this municipality)."""

    def __init__(self, what: str, key: str) -> None:
        super().__init__(what, key)
        self.what = what
        self.key = key
        self.message_en = f"{what} not found: {key}"
        self.message_ja = f"該当するデータが見つかりません（{what}: {key}）"

    def __str__(self) -> str:
        return self.message_en


class PermissionDeniedError(JukiError):
    """The actor's role does not allow the action; raised before anything is read or written."""

    def __init__(self, actor_id: str, action: str) -> None:
        super().__init__(actor_id, action)
        self.actor_id = actor_id
        self.action = action
        self.message_en = f"actor {actor_id} is not permitted to {action}"
        self.message_ja = f"この操作を行う権限がありません（操作者: {actor_id}、操作: {action}）"

    def __str__(self) -> str:
        return self.message_en


class ConcurrentChangeError(JukiError):
    """Another transaction changed the data first; the caller may retry the whole action.

    Raised by stores (a record no longer at the version read, two counters racing for one
    resident code) and by the database itself (deadlock, serialization failure, a locked SQLite
    file); the API answers 409 `concurrent_change`.
    """


class StateConflictError(JukiError):
    """A well-formed request the current state of a shared thing refuses for now: another
    operator holds the resident's edit lock, a provisional change was already decided, the
    record changed since a provisional change was entered. The API answers 409 with `rule` as
    its type; the message says what to do."""

    def __init__(self, rule: str, message_en: str, message_ja: str) -> None:
        super().__init__(rule, message_en, message_ja)
        self.rule = rule
        self.message_en = message_en
        self.message_ja = message_ja

    def __str__(self) -> str:
        return f"{self.message_en} [{self.rule}]"
