"""The shape of the code, as ADR 0004 decided it: small modules, short functions, and no module
reaching into another's private names. The package layers themselves are import-linter
contracts (`pyproject.toml`), run by `make test`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import juki

SRC = Path(juki.__file__).parent
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules() -> Iterator[Path]:
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" not in path.relative_to(SRC).parts:
            yield path


def _name(path: Path) -> str:
    return ".".join(path.relative_to(SRC.parent).with_suffix("").parts)


def test_no_module_is_over_500_lines() -> None:
    long = {
        _name(p): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    start = min([d.lineno for d in node.decorator_list] + [node.lineno])
    return (node.end_lineno or node.lineno) - start + 1


def test_no_function_is_over_80_lines() -> None:
    long = {
        f"{_name(p)}.{f.name}": n
        for p in _modules()
        for f in _functions(ast.parse(p.read_text(encoding="utf-8")))
        if (n := _length(f)) > MAX_FUNCTION_LINES
    }
    assert long == {}


def _private_imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("juki"):
            for alias in node.names:
                if alias.name.startswith("_"):
                    yield f"{node.module}.{alias.name}"
            if any(part.startswith("_") for part in node.module.split(".")):
                yield node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "juki" and any(p.startswith("_") for p in parts[1:]):
                    yield alias.name


def test_no_module_imports_another_modules_private_names() -> None:
    found = {_name(p): sorted(set(_private_imports(p))) for p in _modules()}
    assert {m: names for m, names in found.items() if names} == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from juki.network.messages import _Body\n", ["juki.network.messages._Body"]),
        ("from juki.x._impl import thing\n", ["juki.x._impl"]),
        ("import juki.x._impl\n", ["juki.x._impl"]),
        ("from juki.network.messages import MessageBody\n", []),
        ("from __future__ import annotations\n", []),
    ],
)
def test_the_private_import_check_sees_each_form(
    tmp_path: Path, source: str, expected: list[str]
) -> None:
    module = tmp_path / "m.py"
    module.write_text(source, encoding="utf-8")
    assert list(_private_imports(module)) == expected


def test_the_length_checks_count_decorators_and_bodies() -> None:
    source = "@decorator\ndef f():\n" + "    x = 1\n" * 80
    (function,) = _functions(ast.parse(source))
    assert _length(function) == 82
