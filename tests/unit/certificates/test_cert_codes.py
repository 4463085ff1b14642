"""The 照合番号: 16 characters in four groups, read back however a person types them."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from juki.certificates.codes import (
    ALPHABET,
    BITS,
    code_matches,
    normalise_code,
    verification_code,
)

DIGEST = hashlib.sha256(b"certificate").hexdigest()


def test_code_is_four_groups_of_four_from_the_unambiguous_alphabet() -> None:
    code = verification_code(DIGEST)
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert set("".join(groups)) <= set(ALPHABET)
    assert not set("ILOU") & set(ALPHABET)
    assert BITS == 80


def test_code_is_the_first_80_bits_of_the_digest() -> None:
    code = verification_code(DIGEST).replace("-", "")
    value = 0
    for ch in code:
        value = value * 32 + ALPHABET.index(ch)
    assert value == int(DIGEST[:20], 16)


def test_code_differs_when_the_first_80_bits_differ() -> None:
    other = format(int(DIGEST[:20], 16) ^ 1, "020x") + DIGEST[20:]
    assert verification_code(other) != verification_code(DIGEST)


def test_typed_code_is_read_without_separators_in_full_width_and_lower_case() -> None:
    code = verification_code(DIGEST)
    plain = code.replace("-", "")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in plain)
    assert normalise_code(plain) == code
    assert normalise_code(plain.lower()) == code
    assert normalise_code(full_width) == code
    assert normalise_code("　".join(code.split("-"))) == code  # ideographic spaces
    assert normalise_code(code.replace("-", "ー")) == code  # a long-vowel mark typed as dash
    assert code_matches(DIGEST, f" {plain[:8]} {plain[8:]} ")


def test_ambiguous_letters_read_as_digits() -> None:
    assert normalise_code("OOOO-IIII-LLLL-0000") == "0000-1111-1111-0000"


def test_codes_that_cannot_be_are_refused() -> None:
    assert normalise_code("") is None
    assert normalise_code("ABCD-EFGH-JKMN-PQR") is None  # 15 characters
    assert normalise_code("ABCD-EFGH-JKMN-PQRSU") is None  # U is not in the alphabet
    assert normalise_code("ABCD-EFGH-JKMN-PQR!") is None
    assert normalise_code("A" * 65) is None
    assert not code_matches(DIGEST, DIGEST)  # the 64-digit digest is not the code


@given(st.binary(min_size=32, max_size=32))
def test_every_digest_round_trips_through_its_code(raw: bytes) -> None:
    digest = raw.hex()
    code = verification_code(digest)
    assert normalise_code(code) == code
    assert code_matches(digest, code.replace("-", "").lower())
