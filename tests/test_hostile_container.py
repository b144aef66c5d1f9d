"""A container whose log attacks the terminal, run on the real Docker engine: OSC 52 (write the
clipboard), a title change, a screen clear and a C1 CSI, and a 1 MiB line. `vtui logs`,
`vtui logs -f` and the TUI's Server screen (read as the raw bytes it writes to a
pseudo-terminal) show them as text, cut the long line, and resume a followed log at its
exact line."""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SIM_IMAGE
from tests.support.hostile_endpoint import ESCAPES
from tests.support.pty_session import vtui_on_a_terminal
from vtui.backends.engine.docker_engine import DockerEngine
from vtui.core import labels
from vtui.core.log_buffer import MAX_LINE_BYTES

pytestmark = pytest.mark.engine

# The container's program: the attack lines, a backlog, a pause, then a tick a second.
SCRIPT = f"""
import sys, time
out = sys.stdout
out.write("INFO hostile: " + {ESCAPES!r} + "\\n")
out.write("INFO long: " + "X" * (1024 * 1024) + "\\n")
for i in range(5):
    out.write(f"line {{i}}\\n"); out.flush(); time.sleep(0.05)
out.write("backlog done\\n"); out.flush()
time.sleep(4)
for i in range(60):
    out.write(f"tick {{i}}\\n"); out.flush(); time.sleep(0.3)
"""
HOSTILE_MODEL = "[/bold]hostile[link=https://evil.example]model"
RAW_PAYLOADS = (b"\x1b]52;c;SG9zdGlsZQ", b"\x1b]0;PWNED", b"\x1b[2J", "\x9b2J".encode())


@pytest.fixture
def hostile_container(docker_engine: DockerEngine) -> Iterator[str]:
    import docker

    client = docker.from_env()
    name = f"vtui-hostile-{secrets.token_hex(3)}"
    container: Any = client.containers.run(
        SIM_IMAGE,
        entrypoint=["python3", "-u", "-c", SCRIPT],
        name=name,
        # A label is anyone's to write: markup in it must be drawn as text, not parsed.
        labels=labels.vtui_labels(HOSTILE_MODEL, "hostile"),
        detach=True,
    )
    try:
        deadline = time.monotonic() + 30
        while b"backlog done" not in container.logs():
            assert time.monotonic() < deadline, "the container never wrote its backlog"
            time.sleep(0.1)
        yield name
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)


def vtui_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path)}


@pytest.mark.attack("terminal-escapes")
@pytest.mark.attack("bounded-memory")
def test_vtui_logs_prints_the_attack_as_text_and_cuts_the_long_line(
    hostile_container: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vtui", "logs", hostile_container],
        capture_output=True, timeout=60, env=vtui_env(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not any(raw in done.stdout for raw in RAW_PAYLOADS)
    assert b"\x1b" not in done.stdout
    text = done.stdout.decode()
    assert "\u241b]52;c;SG9zdGlsZQ==\u2407" in text
    (long,) = [line for line in text.splitlines() if line.startswith("INFO long: ")]
    assert len(long) < MAX_LINE_BYTES + 100 and "line cut by vtui" in long


@pytest.mark.attack("log-resume")
def test_a_followed_log_starts_at_its_tail_and_never_repeats_a_line(
    hostile_container: str, tmp_path: Path
) -> None:
    follow = subprocess.Popen(
        [sys.executable, "-m", "vtui", "logs", "-f", "--tail", "2", hostile_container],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=vtui_env(tmp_path),
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert follow.stdout is not None
        deadline = time.monotonic() + 40
        while "tick 3" not in lines and time.monotonic() < deadline:
            ready, _, _ = select.select([follow.stdout], [], [], 1.0)
            if ready:
                lines.append(follow.stdout.readline().decode().rstrip("\n"))
    finally:
        follow.kill()
        follow.wait()
    assert lines[:2] == ["line 4", "backlog done"], lines[:4]
    assert lines[2:6] == ["tick 0", "tick 1", "tick 2", "tick 3"], lines
    assert len(lines) == len(set(lines)), lines


@pytest.mark.attack("terminal-escapes")
def test_the_server_screen_draws_the_attack_as_text_on_a_real_terminal(
    hostile_container: str, tmp_path: Path
) -> None:
    with vtui_on_a_terminal(env=vtui_env(tmp_path)) as tui:
        tui.read(8)
        tui.type(b"\x1b")  # out of the Models search box, where the cursor starts
        tui.read(1)
        tui.type(b"3")  # the Server screen
        drawn = tui.read_until(b"backlog done", 15) or tui.read_until(b"tick", 5)
        tui.type(b"\x11")  # ctrl+q
        tui.read(2)
    assert drawn, "the log was never drawn"
    assert b"PWNED-TITLE" in tui.screen
    assert b"[/bold]hostile" in tui.screen  # the label, as text: no markup error, no link
    assert b"\x1b]8;" not in tui.screen
    found = [raw for raw in RAW_PAYLOADS if raw in tui.screen]
    assert found == [], found


def stamped(at_ns: int, text: str) -> bytes:
    seconds, nanos = divmod(at_ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos:09d}Z"
    return f"{stamp} {text}\n".encode()


@pytest.mark.attack("log-resume")
def test_a_resumed_stream_skips_what_came_before_its_nanosecond() -> None:
    """The engine is asked from the whole second before (it takes no finer `since`), so
    the lines before the exact stamp come again and must be skipped as they arrive."""
    from vtui.backends.engine.docker_engine import DockerLogFollow

    base = 1_764_600_000_123_456_789
    raw = b"".join(stamped(base + i, f"line {i}") for i in range(5))
    # The engine's frames cut lines anywhere: one byte at a time is the worst of it.
    frames = [raw[i : i + 1] for i in range(len(raw))]
    got = [line.text for line in DockerLogFollow(iter(frames), since_ns=base + 3)]
    assert got == ["line 3", "line 4"]


@pytest.mark.attack("bounded-memory")
def test_a_log_line_that_never_ends_is_held_to_the_bound() -> None:
    from vtui.backends.engine.docker_engine import DockerLogFollow

    held: list[int] = []

    def endless() -> Iterator[bytes]:
        yield stamped(1_764_600_000_000_000_000, "start")[:-1]  # no line end, ever
        for _ in range(2000):  # 128 MiB in all
            yield b"\x1b]52;c;" + b"A" * 65528
        yield b"\n" + stamped(1_764_600_001_000_000_000, "after")

    follow = DockerLogFollow(endless())
    lines = []
    for line in follow:
        lines.append(line.text)
        held.append(len(line.text))
    assert lines[-1] == "after"
    assert len(lines) == 2 and max(held) < MAX_LINE_BYTES + 100
    assert "line cut by vtui" in lines[0] and "\x1b" not in lines[0]
