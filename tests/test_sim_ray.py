"""The simulator as a Ray cluster: its `ray` joins nodes as Ray's does, and its `vllm serve`
with the Ray executor waits for tensor x pipeline GPUs as vLLM does, serving once they
joined and failing with vLLM's own placement-group error when they never do. The commands
are the ones `vtui export --to lws` writes, run as they are, here as processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.helpers import REPO, free_port
from vtui.core import exports
from vtui.core.launch_spec import LaunchSpec
from vtui.core.log_explainer import explain


@pytest.fixture
def cluster_bin(tmp_path: Path) -> Path:
    """`ray` and `vllm` on PATH, as the simulator image has them."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, module in (("ray", "vtui.sim.ray_node"), ("vllm", "vtui.sim.vllm_server")):
        program = folder / name
        program.write_text(f'#!/bin/sh\nexec {sys.executable} -m {module} "$@"\n')
        program.chmod(0o755)
    return folder


class Nodes:
    def __init__(self, folder: Path, ray_port: int, logs: Path) -> None:
        self.logs = logs
        self.env = {
            **os.environ,
            "PATH": f"{folder}:{os.environ['PATH']}",
            "PYTHONPATH": str(REPO),
            "VTUI_SIM_GPUS": "1",  # one GPU a node: a layout of 2 needs both nodes
            "VLLM_HOST_IP": "127.0.0.1",
            "RAY_ADDRESS": f"127.0.0.1:{ray_port}",
            "VLLM_API_KEY": "k",
        }
        self.ray_port = ray_port
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, script: str, **env: str) -> subprocess.Popen[str]:
        # A file, not a pipe: the detached Ray head keeps its end open after the shell ends.
        log = (self.logs / f"node-{len(self.procs)}.log").open("w")
        proc = subprocess.Popen(
            ["sh", "-c", script], env={**self.env, **env}, text=True,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def output(self, proc: subprocess.Popen[str], timeout: float = 30) -> str:
        proc.wait(timeout=timeout)
        return (self.logs / f"node-{self.procs.index(proc)}.log").read_text()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
        for proc in self.procs:
            proc.wait(timeout=10)
        # The detached head of `ray start --head` lives in its own session.
        subprocess.run(["pkill", "-f", f"vtui.sim.ray_node start --head --port={self.ray_port}"])


@pytest.fixture
def nodes(cluster_bin: Path, tmp_path: Path) -> Iterator[Nodes]:
    made = Nodes(cluster_bin, free_port(), tmp_path)
    yield made
    made.stop()


def lws_commands(nodes: Nodes, port: int) -> tuple[str, str]:
    """The leader's and a worker's commands of `vtui export --to lws`, as kubelet would
    hand them to the shell (its $(VAR) filled in, $$ made $), on this test's ports."""
    spec = LaunchSpec(name="pp2", model="Qwen/Qwen3-8B", args={"--pipeline-parallel-size": 2})
    lws = exports.lws_object(spec)[0]["spec"]["leaderWorkerTemplate"]
    leader = lws["leaderTemplate"]["spec"]["containers"][0]["command"][2]
    worker = lws["workerTemplate"]["spec"]["containers"][0]["command"][2]
    ray = str(exports.RAY_PORT)
    leader = leader.replace(f"--port={ray}", f"--port={nodes.ray_port}")
    leader = leader.replace("--port 8000", f"--port {port}").replace("$$", "$")
    worker = worker.replace("$(LWS_LEADER_ADDRESS)", "127.0.0.1").replace(ray, str(nodes.ray_port))
    return leader, worker


def wait_healthy(port: int, proc: subprocess.Popen[str], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the leader ended"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the leader never served")


def test_the_lws_leader_serves_once_its_worker_joined(nodes: Nodes) -> None:
    port = free_port()
    leader, worker = lws_commands(nodes, port)
    head = nodes.start(leader, VTUI_SIM_RAY_WAIT="60")
    time.sleep(1.5)
    assert head.poll() is None  # waiting for the second node's GPU
    nodes.start(worker)
    wait_healthy(port, head)
    status = subprocess.run(["ray", "status"], env=nodes.env, capture_output=True, text=True)
    assert status.returncode == 0
    assert status.stdout.count(" node_") == 2 and "0.0/2.0 GPU" in status.stdout


def test_a_worker_that_never_joins_ends_in_vllms_placement_group_error(nodes: Nodes) -> None:
    leader, _ = lws_commands(nodes, free_port())
    head = nodes.start(leader, VTUI_SIM_RAY_WAIT="3")
    out = nodes.output(head)
    assert head.returncode == 1
    assert "Ray runtime started." in out and "Connecting to existing Ray cluster" in out
    found = explain(out.splitlines())
    assert found is not None and found.rule == "ray-placement-group"
    assert "ray status" in found.fix


def test_a_worker_whose_head_dies_ends_too(nodes: Nodes) -> None:
    head = nodes.start(f"ray start --head --port={nodes.ray_port} --block")
    time.sleep(1.0)
    worker = nodes.start(f"ray start --address=127.0.0.1:{nodes.ray_port} --block")
    time.sleep(1.0)
    assert worker.poll() is None
    os.killpg(head.pid, 9)
    out = nodes.output(worker, timeout=20)
    assert worker.returncode == 1 and "is gone" in out
