"""`vtui up`, `ps`, `logs`, `down` against the real engine, as a user runs them."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SIM_IMAGE
from tests.support.helpers import REPO, free_port, run_vtui
from vtui.backends.engine.docker_engine import DockerEngine
from vtui.backends.files.profile_store import ProfileStore
from vtui.core.launch_spec import LaunchSpec

pytestmark = pytest.mark.engine
QWEN = "Qwen/Qwen2.5-7B-Instruct"


@pytest.fixture
def config_home(tmp_path: Path, docker_engine: DockerEngine) -> Iterator[Path]:
    home = tmp_path / "config"
    yield home
    # Whatever the test left running goes: every container of a profile made here.
    store = ProfileStore(home / "vtui")
    names = {f"vtui-{name}" for name in store.names()}
    for d in docker_engine.list_deployments():
        if d.name in names:
            if d.live:
                docker_engine.stop(d.container_id, timeout=2)
            docker_engine.remove(d.container_id)


def make_profile(home: Path, model: str = QWEN, **args: object) -> str:
    name = f"t{secrets.token_hex(3)}"
    ProfileStore(home / "vtui").create(
        LaunchSpec(
            name=name, model=model, image=SIM_IMAGE, gpus="none", port=free_port(), args=args
        )
    )
    return name


def vtui(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return run_vtui(*argv, config=home)


def test_up_waits_for_ready_and_down_removes(config_home: Path) -> None:
    name = make_profile(config_home)
    up = vtui(config_home, "up", name)
    assert up.returncode == 0, up.stderr
    phases = [line.split("s  ", 1)[1] for line in up.stdout.splitlines() if "s  " in line]
    assert phases[-4:] == ["loading weights", "profiling memory", "capturing CUDA graphs", "ready"]
    assert f"serves {QWEN}" in up.stdout
    assert "KV tokens" in up.stdout

    listed = json.loads(vtui(config_home, "ps", "--json").stdout)
    ours = [row for row in listed if row["profile"] == name]
    assert len(ours) == 1 and ours[0]["state"] == "running" and ours[0]["vtui"] is True
    assert ours[0]["address"].startswith("http://127.0.0.1:")

    logs = vtui(config_home, "logs", name, "--tail", "5")
    assert logs.returncode == 0 and len(logs.stdout.splitlines()) == 5

    down = vtui(config_home, "down", name)
    assert down.returncode == 0, down.stderr
    assert f"stopped and removed vtui-{name}" in down.stdout
    assert name not in {
        row["profile"] for row in json.loads(vtui(config_home, "ps", "--json").stdout)
    }


def test_up_of_a_failing_profile_exits_1_with_why_and_fix(config_home: Path) -> None:
    name = make_profile(
        config_home, "meta-llama/Llama-3.1-8B-Instruct", **{"--max-model-len": 1000000}
    )
    up = vtui(config_home, "up", name)
    assert up.returncode == 1
    assert f"vtui-{name} crashed (exit 1)" in up.stderr
    assert "why: The KV cache cannot hold one request of max-model-len 1,000,000" in up.stderr
    assert "fix: Set max-model-len to" in up.stderr
    assert "Traceback" not in up.stderr


def test_up_again_leaves_a_running_profile_as_it_is_and_restart_starts_it_anew(
    config_home: Path, docker_engine: DockerEngine
) -> None:
    name = make_profile(config_home)
    assert vtui(config_home, "up", name).returncode == 0
    first = {d.name: d.container_id for d in docker_engine.list_deployments()}[f"vtui-{name}"]
    again = vtui(config_home, "up", name)
    assert again.returncode == 0, again.stderr
    assert f"{name} runs already as vtui-{name} (running, 127.0.0.1:" in again.stdout
    assert f"vtui up {name} --restart" in again.stdout
    ids = {d.name: d.container_id for d in docker_engine.list_deployments()}
    assert ids[f"vtui-{name}"] == first  # untouched
    restarted = vtui(config_home, "up", name, "--restart")
    assert restarted.returncode == 0, restarted.stderr
    assert f"restarting vtui-{name}" in restarted.stdout and "ready" in restarted.stdout
    ids = {d.name: d.container_id for d in docker_engine.list_deployments()}
    assert ids[f"vtui-{name}"] != first  # a new container, from the profile as saved


@pytest.mark.fault("ctrl-c-launch")
def test_ctrl_c_during_up_leaves_the_container_running(config_home: Path) -> None:
    name = make_profile(config_home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtui", "up", name],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "XDG_CONFIG_HOME": str(config_home)},
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # until the container exists and start-up is under way
        if "starting" in line and "s  " in line:
            break
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert f"left vtui-{name} running" in err
    time.sleep(0.5)
    listed = json.loads(vtui(config_home, "ps", "--json").stdout)
    assert [row["state"] for row in listed if row["profile"] == name] in (["running"], ["starting"])
