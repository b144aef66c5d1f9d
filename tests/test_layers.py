"""The architecture holds: a pure core, a stdlib-only simulator, and no heavy import at start."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending(names: set[str], forbidden: set[str]) -> set[str]:
    return {n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden)}


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
            if name.startswith("vtui.core"):
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
