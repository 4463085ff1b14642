"""Operator tokens work wherever an operator must type or pass one."""

from __future__ import annotations

import argparse

from juki.security.operators import MAX_TOKEN_LEN, TOKEN_PREFIX, new_token, token_sha256


def test_a_token_is_never_taken_for_a_command_line_option() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--operator-token")
    for _ in range(2000):  # a token starting with "-" used to turn up once in 64
        token = new_token()
        assert token.startswith(TOKEN_PREFIX) and len(token) <= MAX_TOKEN_LEN
        assert parser.parse_args(["--operator-token", token]).operator_token == token


def test_tokens_differ_and_only_their_hash_is_kept() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert len({token_sha256(t) for t in tokens}) == 100
    assert all(len(token_sha256(t)) == 64 for t in tokens)
