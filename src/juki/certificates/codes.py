"""The 照合番号 (verification code) printed on a certificate: short enough to type.

The code is the first 80 bits of the certificate's SHA-256 digest (the digest of its canonical
document, `document.digest_of`), written as 16 characters of Crockford's base-32 alphabet in four
groups of four: `7KQ2-M9XD-4HRT-0B6N`. The alphabet has no I, L, O or U, so nothing on paper
reads two ways; a reader who types O for 0, or I or L for 1, is understood anyway, as are
full-width characters, lower case, spaces and any dash (docs/certificates.md says why 80 bits).
Pure: no I/O.
"""

from __future__ import annotations

import hmac
import unicodedata
from typing import Final

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS: Final = 4
GROUP_LEN: Final = 4
LENGTH: Final = GROUPS * GROUP_LEN  # 16 characters × 5 bits = 80 bits
BITS: Final = LENGTH * 5
# What a person may type for a character of the alphabet (Crockford's decoding rules).
_READ_AS: Final = {"O": "0", "I": "1", "L": "1"}
# Separators people type or paste between groups; removed before reading.
_SEPARATORS: Final = frozenset(" \t-_.・‐‑‒–—―−ー")


def verification_code(digest: str) -> str:
    """The grouped code of a 64-hex-digit SHA-256 digest, e.g. `7KQ2-M9XD-4HRT-0B6N`."""
    if len(digest) != 64:
        raise ValueError("a certificate digest is 64 hexadecimal digits")
    value = int(digest[: BITS // 4], 16)
    chars = [ALPHABET[(value >> (5 * (LENGTH - 1 - i))) & 31] for i in range(LENGTH)]
    return "-".join("".join(chars[g * GROUP_LEN : (g + 1) * GROUP_LEN]) for g in range(GROUPS))


def normalise_code(text: str) -> str | None:
    """What someone typed, as the grouped code, or None when it cannot be one.

    Full-width letters and digits become half-width (NFKC), case is ignored, separators
    anywhere are dropped, O reads as 0 and I or L as 1.
    """
    if len(text) > 64:
        return None
    plain = unicodedata.normalize("NFKC", text).upper()
    kept = [_READ_AS.get(ch, ch) for ch in plain if ch not in _SEPARATORS]
    if len(kept) != LENGTH or any(ch not in ALPHABET for ch in kept):
        return None
    return "-".join("".join(kept[g * GROUP_LEN : (g + 1) * GROUP_LEN]) for g in range(GROUPS))


def code_matches(digest: str, typed: str) -> bool:
    """Does what someone typed name this digest's code? Compared in constant time."""
    code = normalise_code(typed)
    return code is not None and hmac.compare_digest(code, verification_code(digest))
