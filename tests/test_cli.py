"""`vtui` on the command line: help that teaches, clear errors, screenshots without a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.helpers import run_vtui
from vtui.core.terminal_size import parse_size

SCREENS = ("models", "launch", "server", "gpu", "chat")


vtui = run_vtui


def test_help_names_every_screen_and_the_demo() -> None:
    out = vtui("--help")
    assert out.returncode == 0
    for word in (
        "--demo",
        "--headless",
        "--screenshots",
        "Models",
        "Launch",
        "Server",
        "GPU",
        "Chat",
        "NVIDIA Container Toolkit",
    ):
        assert word in out.stdout


def test_version_names_vtui_and_the_vllm_release_it_targets() -> None:
    from vtui import __version__
    from vtui.core.vllm_release import VLLM_VERSION

    out = vtui("--version")
    assert out.returncode == 0
    assert out.stdout.strip().startswith(f"vtui {__version__} ")
    assert f"vLLM {VLLM_VERSION}" in out.stdout


def test_unknown_option_is_a_usage_error() -> None:
    out = vtui("--frobnicate")
    assert out.returncode == 2
    assert "usage: vtui" in out.stderr
    assert "unrecognized arguments: --frobnicate" in out.stderr


def test_without_a_terminal_it_explains_in_one_line() -> None:
    out = vtui("--demo")
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "needs an interactive terminal" in out.stderr
    assert "--headless" in out.stderr


@pytest.mark.parametrize("size", ["120", "x40", "abcxdef", "10x10", "120x40x2", "99999x40"])
def test_malformed_size_is_refused_clearly(size: str) -> None:
    out = vtui("--headless", "--demo", "--screenshots", "/tmp/unused", "--size", size)
    assert out.returncode == 2
    assert "--size" in out.stderr
    assert "Traceback" not in out.stderr


def test_size_parses_columns_by_rows() -> None:
    assert parse_size("80x24") == (80, 24)
    assert parse_size(" 200X60 ") == (200, 60)


def test_headless_needs_a_screenshot_dir_and_vice_versa(tmp_path: Path) -> None:
    assert vtui("--headless", "--demo").returncode == 2
    out = vtui("--screenshots", str(tmp_path), "--demo")
    assert out.returncode == 2
    assert "--screenshots needs --headless" in out.stderr


def test_unwritable_screenshot_dir_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    target = blocker / "shots"
    out = vtui("--headless", "--demo", "--screenshots", str(target))
    assert out.returncode == 1
    assert str(target) in out.stderr
    assert "Traceback" not in out.stderr


def test_headless_demo_writes_every_screen(tmp_path: Path) -> None:
    out = vtui("--headless", "--demo", "--screenshots", str(tmp_path), "--size", "100x30")
    assert out.returncode == 0, out.stderr
    written = [Path(line) for line in out.stdout.splitlines()]
    assert [p.name for p in written] == [f"{s}.svg" for s in SCREENS]
    for path, title in zip(written, ("Models", "Launch", "Server", "GPU", "Chat"), strict=True):
        svg = path.read_text()
        assert svg.startswith("<svg")
        assert f"vtui&#160;\u203a&#160;{title}" in svg
        assert "DEMO" in svg
    assert "NVIDIA&#160;H100&#160;80GB&#160;HBM3" in (tmp_path / "gpu.svg").read_text()
    # No screen is caught half-loaded: the fit is drawn, the running container's log is in.
    assert "reading&#160;the&#160;model" not in (tmp_path / "launch.svg").read_text()
    assert "Application&#160;startup&#160;complete" in (tmp_path / "server.svg").read_text()
    assert "did not come within" not in out.stderr
    # The chat is shown with one exchange in it, its figures line under the reply.
    chat = (tmp_path / "chat.svg").read_text()
    assert "What&#160;does&#160;vLLM&#160;do?" in chat and "completion" in chat
