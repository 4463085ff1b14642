"""Many identity_info changes of one municipality in one message (`identity_info_changes`).

A batch (`juki.network.batch`) carries many messages in one request, but each message still
costs its receiver an envelope, a schema check, an authority check, an inbox row, a reply, and
at a prefecture an outbox row, a sequence number and a settlement for the message it passes
on: about three quarters of a level's time, where the copy and history rows a change must
write are the rest (`python -m bench network`, "a level's writes"). A run of changes — a
seeded or loaded population, a 離脱's backlog, a busy day's relocations — therefore goes up as
messages of many changes each: one envelope, one check of the sender's authority for the one
municipality all of them belong to, one inbox row and one message passed on.

Each change is the same identity_info an `identity_info_changed` carries, validated the same
way; a level applies them in their order (a later change of the same person wins), under the
message's id in its history, as a repair snapshot's entries are. The message is exactly once as
a whole. A single change still travels as `identity_info_changed`, and both are accepted.

Who may send it is the rule of `identity_info_changed`: a municipality for its own residents
to its prefecture, a prefecture for its municipalities to national
(`juki.network.authority`), checked on the message's `lg_code`, which every change must share.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Annotated, Final

from pydantic import Field, model_validator

from juki.network.batch import ITEM_OVERHEAD_BYTES
from juki.network.envelope import MAX_MESSAGE_BODY_BYTES, canonical_json
from juki.network.message_base import LgCodeStr, MessageBody
from juki.network.messages import (
    CURRENT_VERSION,
    SCHEMAS,
    IdentityInfoBody,
    IdentityInfoChanged,
    body_of,
)

IDENTITY_INFO_CHANGES: Final = "identity_info_changes"
MAX_CHANGES: Final = 1024
# A message of changes could go alone (a retry does): about 400 changes of ordinary length.
RUN_BYTES: Final = MAX_MESSAGE_BODY_BYTES - ITEM_OVERHEAD_BYTES


class IdentityInfoChanges(MessageBody):
    """identity_info changes of one municipality's residents, in the order they happened."""

    lg_code: LgCodeStr
    changes: Annotated[list[IdentityInfoBody], Field(min_length=1, max_length=MAX_CHANGES)]

    @model_validator(mode="after")
    def _one_municipality(self) -> IdentityInfoChanges:
        for i, change in enumerate(self.changes):
            if change.lg_code != self.lg_code:
                raise ValueError(f"changes[{i}].lg_code {change.lg_code} is not {self.lg_code}")
        return self


SCHEMAS[(IDENTITY_INFO_CHANGES, 1)] = IdentityInfoChanges
CURRENT_VERSION[IDENTITY_INFO_CHANGES] = 1


def pack(
    lg_code: str, changes: Sequence[IdentityInfoBody], max_bytes: int
) -> list[IdentityInfoChanges]:
    """`changes` (all of `lg_code`) as few messages as fit, in order: each at most
    `MAX_CHANGES` changes and `max_bytes` of body as canonical JSON (what a batch may carry
    as one message). A change too large to fit alone is a programming error: identity_info's
    fields are bounded far below any batch."""
    out: list[IdentityInfoChanges] = []
    sizes = [len(canonical_json(body_of(c))) + 1 for c in changes]  # + the list's comma
    overhead = len(canonical_json({"changes": [], "lg_code": lg_code}))
    start, used = 0, overhead
    for i, size in enumerate(sizes):
        if overhead + size > max_bytes:
            raise ValueError(f"an identity_info of {size} bytes cannot fit {max_bytes}")
        if i > start and (used + size > max_bytes or i - start == MAX_CHANGES):
            out.append(IdentityInfoChanges(lg_code=lg_code, changes=list(changes[start:i])))
            start, used = i, overhead
        used += size
    if start < len(changes):
        out.append(IdentityInfoChanges(lg_code=lg_code, changes=list(changes[start:])))
    return out


def up_messages(changed: Sequence[IdentityInfoChanged]) -> list[MessageBody]:
    """How a run of changes goes up, in order: a change alone as `identity_info_changed`,
    more as `identity_info_changes` of each municipality's consecutive changes."""
    if len(changed) == 1:
        return [changed[0]]
    out: list[MessageBody] = []
    for lg_code, group in groupby((c.identity for c in changed), key=lambda i: i.lg_code):
        out += pack(lg_code, list(group), RUN_BYTES)
    return out
