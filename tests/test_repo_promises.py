"""The README never lies: CI runs the test command it gives, and the screenshots it shows exist."""

from __future__ import annotations

import re

from tests.support.helpers import REPO


def fenced_commands(markdown: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", markdown, re.S)]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    commands = fenced_commands(readme)
    assert "scripts/test.sh" in commands
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert "scripts/test.sh" in ci_lines


def test_readme_gives_the_run_command_with_the_demo() -> None:
    assert "pipx install . && vtui --demo" in fenced_commands((REPO / "README.md").read_text())


def test_ci_installs_vtui_the_way_the_readme_says() -> None:
    """scripts/test.sh runs the install check, which fails when README's command changes."""
    test_script = (REPO / "scripts" / "test.sh").read_text()
    assert "scripts/install-check.sh" in test_script
    check = (REPO / "scripts" / "install-check.sh").read_text()
    assert "README_COMMAND='pipx install . && vtui --demo'" in check
    assert "pipx install --force ." in check


def test_every_screenshot_the_readme_shows_is_in_the_repo() -> None:
    readme = (REPO / "README.md").read_text()
    shown = re.findall(r"\]\((screenshots/[^)]+)\)", readme)
    # Models, GPU and Chat from the demo, Server, and the GPU screen on a real H100.
    assert len(set(shown)) == 5
    assert "screenshots/gpu-real-h100.svg" in shown
    for path in shown:
        assert (REPO / path).read_text().startswith("<svg"), path
