"""The hardening promises of tests/hardening.py each have a test, and every marker names
one of them: the report printed at the end of a run covers all of it."""

from __future__ import annotations

import ast

from tests.hardening import KINDS
from tests.support.helpers import REPO


def markers_in_tests() -> dict[tuple[str, str], list[str]]:
    """(kind, key) -> the tests marked with it, read from the test sources."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted((REPO / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in node.decorator_list:
                if not (isinstance(decorator, ast.Call) and decorator.args):
                    continue
                mark = decorator.func
                kind = mark.attr if isinstance(mark, ast.Attribute) else ""
                argument = decorator.args[0]
                if kind in KINDS and isinstance(argument, ast.Constant):
                    key = (kind, str(argument.value))
                    found.setdefault(key, []).append(f"{path.name}::{node.name}")
    return found


def test_every_promise_has_a_test_and_every_marker_a_promise() -> None:
    found = markers_in_tests()
    promised = {(kind, key) for kind, promises in KINDS.items() for key in promises}
    assert promised - set(found) == set(), "promises without a test"
    assert set(found) - promised == set(), "markers naming no promise"
    assert sum(len(tests) for tests in found.values()) >= len(promised)
