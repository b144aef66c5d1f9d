"""The architecture holds: the layer contracts of pyproject.toml, no import circle, a pure
core, a stdlib-only simulator, and no heavy import at start."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.helpers import REPO

PACKAGE = REPO / "vtui"
HEAVY = ("docker", "huggingface_hub", "httpx", "pynvml")
# The core decides; it never reads files, opens sockets, starts processes or draws.
CORE_FORBIDDEN = {
    "textual",
    "rich",
    *HEAVY,
    "os",
    "socket",
    "subprocess",
    "pathlib",
    "shutil",
    "http",
    "urllib",
    "threading",
    "asyncio",
    "vtui.backends",
    "vtui.ui",
}
# Pure string work inside a forbidden package: parsing a URL reads nothing.
CORE_ALLOWED = {"urllib.parse"}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending(names: set[str], forbidden: set[str]) -> set[str]:
    return {
        n
        for n in names
        if n not in CORE_ALLOWED and any(n == f or n.startswith(f + ".") for f in forbidden)
    }


def test_core_imports_no_io_and_no_ui() -> None:
    bad = {
        str(path.relative_to(REPO)): offending(imports_of(path), CORE_FORBIDDEN)
        for path in (PACKAGE / "core").glob("*.py")
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_simulator_needs_only_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names)
    for path in (PACKAGE / "sim").glob("*.py"):
        for name in imports_of(path):
            top = name.split(".")[0]
            assert top in allowed or name.startswith(("vtui.sim", "vtui.core")), (path, name)
            if name.startswith("vtui.core."):
                core_module = PACKAGE / "core" / (name.split(".")[2] + ".py")
                assert not offending(imports_of(core_module), {"textual", "rich", *HEAVY})


def test_starting_the_app_imports_no_backend_library() -> None:
    code = (
        "import sys\n"
        "from vtui.cli.main import build_parser, build_app\n"
        "build_app(build_parser().parse_args([]))\n"
        "build_app(build_parser().parse_args(['--demo']))\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_layer_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml: cli > ui > services > backends >
    sim | locations > core, and no front end naming a concrete backend module."""
    lint = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(lint)], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "0 broken" in out.stdout


def import_circles(package: str = "vtui") -> list[list[str]]:
    """Every set of vtui modules that import one another round a circle (type-only
    imports included), by Tarjan's strongly connected components over grimp's graph."""
    import grimp

    graph = grimp.build_graph(package)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return circles


def test_no_module_of_vtui_is_in_an_import_circle() -> None:
    assert import_circles() == []


def test_the_circle_check_finds_a_circle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "vtui_circle_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from vtui_circle_probe import b\n")
    (package / "b.py").write_text("def later() -> None:\n    from vtui_circle_probe import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import grimp

    graph = grimp.build_graph("vtui_circle_probe")
    assert graph.find_modules_directly_imported_by("vtui_circle_probe.b") == {"vtui_circle_probe.a"}
