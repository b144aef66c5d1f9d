"""`--demo` is one switch: separate `vtui --demo` commands and the demo TUI share one demo
world, and nothing a demo run does touches the user's folders or the current directory.
And one bad profile gets one message from `vtui up`, `vtui profile show` and the Launch
screen, because all three ask the same check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.helpers import REPO
from tests.support.screens import open_launch
from vtui.backends.registry import backends_for
from vtui.locations import demo_home, demo_locations
from vtui.ui.app import VtuiApp


def user_env(tmp_path: Path) -> dict[str, str]:
    """A user whose every folder is watched: home, XDG folders, HF home, and a TMPDIR."""
    home = tmp_path / "home"
    env = dict(os.environ)
    env |= {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "HF_HOME": str(home / ".cache/huggingface"),
        "TMPDIR": str(tmp_path / "tmp"),
        "PYTHONPATH": str(REPO),
    }
    for folder in (home, tmp_path / "tmp", tmp_path / "cwd"):
        folder.mkdir(parents=True, exist_ok=True)
    return env


def vtui(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vtui", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_separate_demo_commands_meet_one_world_and_touch_nothing_of_the_user(
    tmp_path: Path,
) -> None:
    env, cwd = user_env(tmp_path), tmp_path / "cwd"
    new = vtui(env, cwd, "--demo", "profile", "new", "q", "--model", "Qwen/Qwen3-8B")
    assert new.returncode == 0, new.stderr
    # The demo's own container holds 8000, so the new profile takes the next free port.
    assert "port 8000 is taken; using 8001" in new.stderr
    up = vtui(env, cwd, "--demo", "up", "q")
    assert up.returncode == 0, up.stderr
    assert "vtui-q is up" in up.stdout and "serves Qwen/Qwen3-8B" in up.stdout
    ps = vtui(env, cwd, "--demo", "ps")
    rows = {line.split()[0]: line.split()[1] for line in ps.stdout.splitlines()[1:]}
    assert rows == {"vtui-qwen2.5-7b-instruct": "running", "vtui-q": "running"}
    chat = vtui(env, cwd, "--demo", "chat", "--name", "q", "--prompt", "hi")
    assert chat.returncode == 0, chat.stderr
    assert (
        "answering as Qwen/Qwen3-8B" in chat.stdout and "You asked: \u201chi\u201d" in chat.stdout
    )
    search = vtui(env, cwd, "--demo", "search", "qwen3")
    assert search.returncode == 0, search.stderr
    assert "Qwen/Qwen3-8B " in search.stdout
    models = vtui(env, cwd, "--demo", "models")
    assert models.returncode == 0 and "Qwen/Qwen2.5-7B-Instruct" in models.stdout
    compose = vtui(env, cwd, "--demo", "compose", "q", "-o", "docker-compose.yml")
    assert compose.returncode == 0, compose.stderr

    # Everything went to the one demo folder; the user's home and the directory stay empty.
    assert list((tmp_path / "home").rglob("*")) == []
    assert list(cwd.iterdir()) == []
    world = demo_home(7, 2, env)
    assert (world / "config/profiles/q.toml").is_file()
    assert (world / "output/docker-compose.yml").is_file()
    assert oct(world.stat().st_mode & 0o777) == "0o700"

    # The demo TUI opened afterwards sees the same world: q's profile on Launch.
    down = vtui(env, cwd, "--demo", "down", "q")
    assert down.returncode == 0 and "stopped and removed vtui-q" in down.stdout
    after = vtui(env, cwd, "--demo", "ps", "--json")
    assert '"vtui-q"' not in after.stdout


async def test_the_demo_tui_sees_what_demo_commands_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, cwd = user_env(tmp_path), tmp_path / "cwd"
    made = vtui(env, cwd, "--demo", "profile", "new", "q", "--model", "Qwen/Qwen3-8B")
    assert made.returncode == 0, made.stderr
    monkeypatch.setenv("TMPDIR", env["TMPDIR"])
    app = VtuiApp(backends_for(True), live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_launch(app, pilot)
        assert "q" in screen.names
    assert app.backends.places.config == demo_home(7, 2, env) / "config"


BAD_PORT = 'model = "Qwen/Qwen3-8B"\nport = 70000\n'
UNREADABLE = 'model = "Qwen/Qwen3-8B"\n[vllm\n'


@pytest.mark.parametrize("text", [BAD_PORT, UNREADABLE], ids=["bad-port", "unreadable"])
async def test_one_bad_profile_gets_one_message_from_up_show_and_the_launch_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    env, cwd = user_env(tmp_path), tmp_path / "cwd"
    places = demo_locations(demo_home(7, 2, env))
    (places.config / "profiles").mkdir(parents=True)
    (places.config / "profiles" / "bad.toml").write_text(text)

    up = vtui(env, cwd, "--demo", "up", "bad")
    show = vtui(env, cwd, "--demo", "profile", "show", "bad")
    assert up.returncode == 1
    monkeypatch.setenv("TMPDIR", env["TMPDIR"])
    app = VtuiApp(backends_for(True), live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_launch(app, pilot)
        if text == BAD_PORT:
            problem = next(p for p in screen.problems if p.field == "--port")
            line = f"vtui: bad: {problem}"
            assert line in up.stderr.splitlines()
            assert line in show.stdout.splitlines()
            assert problem.message in str(screen.query_one("#field-port .arg-problem").render())
            assert problem.message == "must be 1-65535, not 70000"
        else:
            said = " ".join(str(n.message) for n in app._notifications)
            error = next(line for line in up.stderr.splitlines() if "bad.toml" in line)
            words = error.removeprefix("vtui: error: ")
            assert words in said
            assert f"vtui: error: {words}" in show.stderr.splitlines()
