"""One model over two hosts: the Ray head on this machine's engine, a Ray worker on the
second engine over ssh (scripts/test-remote.sh), the simulator image as vLLM and Ray. Both
engines run on this machine's kernel, so their host networks are one: the worker reaches
the head at 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.conftest import SIM_IMAGE
from tests.support.fleet import SECOND_SOCKET, Fleet
from tests.support.helpers import free_port
from vtui.backends.files.profile_store import ProfileStore

pytestmark = pytest.mark.usefixtures("docker_engine")


def _names(second: bool) -> list[str]:
    env = {**os.environ, "DOCKER_HOST": f"unix://{SECOND_SOCKET}"} if second else None
    done = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}"], env=env, capture_output=True, text=True
    )
    return done.stdout.split()


def _ray_profile(
    fleet: Fleet, name: str, head_address: str = "127.0.0.1", env: dict[str, str] | None = None
) -> None:
    made = fleet.vtui(
        "profile", "new", name, "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpus", "none",
        "--image", SIM_IMAGE, "--port", str(free_port()), "--worker-host", "gpu-2",
        "--head-address", head_address, "--ray-port", str(free_port()),
        "--", "--pipeline-parallel-size", "2",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "caution" in made.stdout + made.stderr  # Ray's open ports are named
    if env:
        store = ProfileStore(fleet.config / "vtui")
        store.save(replace(store.load(name), env=env))


@pytest.fixture
def cleanup() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for name in made:
        for second in (False, True):
            env = {**os.environ, "DOCKER_HOST": f"unix://{SECOND_SOCKET}"} if second else None
            for container in (f"vtui-{name}", f"vtui-{name}-worker-1"):
                subprocess.run(["docker", "rm", "-f", container], env=env, capture_output=True)


def test_a_two_host_ray_launch_reaches_ready_and_goes_down_whole(
    fleet: Fleet, cleanup: list[str]
) -> None:
    cleanup.append("ray2")
    _ray_profile(fleet, "ray2")
    text = (fleet.config / "vtui" / "profiles" / "ray2.toml").read_text()
    assert 'worker_hosts = ["gpu-2"]' in text and 'head_address = "127.0.0.1"' in text
    compose = fleet.vtui("compose", "ray2")
    assert compose.returncode == 1 and "which one compose file cannot start" in compose.stderr

    up = fleet.vtui("up", "ray2", timeout=180)
    assert up.returncode == 0, up.stdout + up.stderr
    assert "ready" in up.stdout and "Ray nodes 2 of 2 joined" in up.stdout
    assert "a Ray cluster of 2 nodes: the head on local, workers on gpu-2" in up.stdout
    # The head here, the worker on the second engine.
    assert "vtui-ray2" in _names(second=False) and "vtui-ray2-worker-1" not in _names(False)
    assert "vtui-ray2-worker-1" in _names(second=True)

    logs = fleet.vtui("logs", "ray2", "--tail", "400").stdout
    assert "vtui: 1 of 2 Ray nodes joined" in logs or "vtui: 2 of 2 Ray nodes joined" in logs
    assert "vtui: 2 of 2 Ray nodes joined" in logs
    # The executor found both nodes' GPUs only once the worker was in.
    assert "2 GPUs in the placement group" in logs

    listed = json.loads(fleet.vtui("ps", "--json").stdout)
    rows = {(r["host"], r["name"]) for r in listed}
    assert {("local", "vtui-ray2"), ("gpu-2", "vtui-ray2-worker-1")} <= rows
    ps = fleet.vtui("ps").stdout
    assert "worker-1 of ray2" in ps

    down = fleet.vtui("down", "ray2", timeout=120)
    assert down.returncode == 0, down.stderr
    assert "stopped and removed vtui-ray2 and its 1 Ray worker(s)" in down.stdout
    assert "vtui-ray2" not in _names(second=False)
    assert "vtui-ray2-worker-1" not in _names(second=True)


def test_the_head_dying_takes_the_group_down_with_the_reason(
    fleet: Fleet, cleanup: list[str]
) -> None:
    cleanup.append("ray3")
    _ray_profile(fleet, "ray3")
    up = fleet.vtui("up", "ray3", timeout=180)
    assert up.returncode == 0, up.stdout + up.stderr
    subprocess.run(["docker", "kill", "vtui-ray3"], check=True, capture_output=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = json.loads(fleet.vtui("ps", "--json").stdout)
        states = {r["name"]: r["state"] for r in listed}
        if states.get("vtui-ray3-worker-1") not in ("running", None):
            break
        time.sleep(1)
    assert states["vtui-ray3"] != "running"
    assert states["vtui-ray3-worker-1"] != "running", states  # the worker left with its head


def test_a_worker_that_cannot_reach_the_head_is_explained(fleet: Fleet, cleanup: list[str]) -> None:
    cleanup.append("ray4")
    # The head's Ray listens on IPv4 alone: at ::1 no worker ever joins, and the head stops
    # waiting (VTUI_NODE_WAIT seconds) with its own line, which the explainer knows.
    _ray_profile(fleet, "ray4", head_address="::1", env={"VTUI_NODE_WAIT": "4"})
    up = fleet.vtui("up", "ray4", timeout=180)
    assert up.returncode != 0
    said = up.stdout + up.stderr
    assert "of 2 Ray nodes joined in" in said
    assert "head_address" in said  # the fix names the field to check


def test_a_layout_that_cannot_run_is_refused_before_anything_starts(
    fleet: Fleet, cleanup: list[str]
) -> None:
    made = fleet.vtui(
        "profile", "new", "ray5", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpus", "none",
        "--image", SIM_IMAGE, "--worker-host", "gpu-2", "--head-address", "127.0.0.1",
        "--", "--pipeline-parallel-size", "3",
    )  # fmt: skip
    assert made.returncode == 1
    assert "--pipeline-parallel-size: 2 nodes need --pipeline-parallel-size 2" in made.stderr
    no_address = fleet.vtui(
        "profile", "new", "ray6", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpus", "none",
        "--worker-host", "gpu-2", "--", "-pp", "2",
    )  # fmt: skip
    assert no_address.returncode == 1 and "head_address: name the address" in no_address.stderr
    same = fleet.vtui(
        "profile", "new", "ray7", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpus", "none",
        "--worker-host", "gpu-2", "--docker-host", "gpu-2", "--head-address", "10.0.0.1",
        "--", "-pp", "2",
    )  # fmt: skip
    assert same.returncode == 1 and "gpu-2 is named twice" in same.stderr
    assert "vtui-ray5" not in _names(second=False)


def test_tensor_parallel_beyond_a_worker_host_s_gpus_is_refused_with_its_count(
    fleet: Fleet,
) -> None:
    # gpu-2's nvidia-smi (in the simulator image) answers with the H200 recorded on the
    # lent machine: one GPU, so TP 2 cannot fit inside that node.
    made = fleet.vtui(
        "profile", "new", "ray8", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpus", "none",
        "--image", SIM_IMAGE, "--worker-host", "gpu-2", "--head-address", "127.0.0.1",
        "--", "-tp", "2", "-pp", "2",
    )  # fmt: skip
    assert made.returncode == 1
    assert "tensor parallel 2 does not fit inside one node: gpu-2 has 1 GPU" in made.stderr
