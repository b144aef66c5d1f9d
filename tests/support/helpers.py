"""Shared test helpers: free loopback ports, the simulator as a process, the demo app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from vtui.backends.registry import Backends, demo_backends
from vtui.core.ticking_clock import TickingClock as _TickingClock
from vtui.ui.app import VtuiApp

REPO = Path(__file__).resolve().parents[2]
FIXED_CLOCK = 10_000.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_vtui(
    *args: str, config: Path | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`vtui ARGS` as a user runs it (in `env`, default this process's); with `config`, its
    profiles, state and HF home live there."""
    env = dict(os.environ if env is None else env)
    if config is not None:
        env |= {
            "XDG_CONFIG_HOME": str(config),
            "XDG_STATE_HOME": str(config / "state"),
            "HF_HOME": str(config / "hf"),
        }
    return subprocess.run(
        [sys.executable, "-m", "vtui", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )


def wait_for_health(
    url: str, proc: subprocess.Popen[str] | None = None, limit: float = 15.0
) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url}/health never answered")


def simulator_argv(port: int, *args: str) -> list[str]:
    """The simulator on loopback, its start-up log printed at once."""
    return [
        sys.executable,
        "-m",
        "vtui.sim.vllm_server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--sim-startup-seconds",
        "0",
        *args,
    ]


@dataclass
class RunningSim:
    url: str
    proc: subprocess.Popen[str]


@contextmanager
def simulator(
    *args: str, api_key: str | None = None, keep_log: bool = True
) -> Iterator[RunningSim]:
    """With keep_log, its output waits in a pipe for the test to read (proc.communicate);
    a pipe nobody reads fills after some 600 access-log lines and then blocks the server,
    so load tests pass keep_log=False."""
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("VLLM_API_KEY", None)
    if api_key:
        env["VLLM_API_KEY"] = api_key
    proc = subprocess.Popen(
        simulator_argv(port, "--sim-token-delay", "0", *args),
        stdout=subprocess.PIPE if keep_log else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, proc)
        yield RunningSim(url, proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def run_simulator_to_exit(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        simulator_argv(free_port(), *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


class ManualClock:
    """A clock the test moves by hand, so the demo world changes only when told."""

    def __init__(self, now: float = FIXED_CLOCK) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TickingClock(_TickingClock):
    def __init__(self, step: float = 0.025, now: float = FIXED_CLOCK) -> None:
        super().__init__(step, now)


def demo(seed: int = 7, clock: ManualClock | None = None, gpu_count: int = 2) -> Backends:
    return demo_backends(seed, clock or ManualClock(), token_delay=0, gpu_count=gpu_count)


def demo_app(seed: int = 7, clock: ManualClock | None = None, gpu_count: int = 2) -> VtuiApp:
    app = VtuiApp(demo(seed, clock, gpu_count), live=False)
    app.clock = TickingClock()
    return app


def sim_vllm_program(folder: Path, *sim_args: str) -> Path:
    """A `vllm` program, as a venv has one, that runs the simulator (with sim_args, the
    simulator's own options, which a profile's vLLM arguments may not carry)."""
    program = folder / "venv" / "bin" / "vllm"
    program.parent.mkdir(parents=True)
    program.write_text(
        f"#!{sys.executable}\n"
        "import runpy, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        f"sys.argv = ['vllm', *sys.argv[1:], *{list(sim_args)!r}]\n"
        "runpy.run_module('vtui.sim.vllm_server', run_name='__main__')\n"
    )
    program.chmod(0o755)
    return program
