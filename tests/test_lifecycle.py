"""Launch, watch, restart, stop and remove vLLM containers on the real Docker engine.

Each test runs the vLLM simulator image as vtui runs vLLM (a LaunchSpec rendered to a
RunRequest) and reads it back through DeploymentWatch, the code the Server screen and
`vtui up` use.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import pytest

from tests.conftest import SIM_IMAGE
from tests.support.engine_helpers import following, sim_request
from tests.support.helpers import free_port
from vtui.backends.engine.docker_engine import DockerEngine
from vtui.core.errors import EngineFailed, EngineRefused, NoSuchContainer
from vtui.core.log_explainer import explain
from vtui.core.records import ContainerState, Deployment, RunRequest
from vtui.core.startup import ORDER, Phase

pytestmark = pytest.mark.engine
QWEN = "Qwen/Qwen2.5-7B-Instruct"
LLAMA = "meta-llama/Llama-3.1-8B-Instruct"


def test_up_to_ready_with_phases_in_order_then_stopped(
    docker_engine: DockerEngine, launched: Callable[[RunRequest], Deployment]
) -> None:
    deployment = launched(sim_request(free_port()))
    with following(docker_engine, deployment) as follower:
        ready = follower.wait_for("/v1/models", lambda u: u.models is not None, 30)
        assert ready.models == (QWEN,)
        seen = list(dict.fromkeys(u.phase for u in follower.updates))
        walked = [p for p in ORDER if p in seen]
        assert seen[: len(walked)] == walked, seen  # never backwards
        assert {Phase.LOADING, Phase.PROFILING, Phase.CAPTURING, Phase.READY} <= set(seen)
        assert any(f.startswith("weights ") for f in ready.figures)
        assert any(f.endswith(" KV tokens") for f in ready.figures)
        assert "Application startup complete." in "\n".join(follower.lines)

        follower.watch.stop_asked()
        started = time.monotonic()
        docker_engine.stop(deployment.container_id, timeout=10)
        assert time.monotonic() - started < 5  # SIGTERM honoured, no kill after the timeout
        stopped = follower.wait_for("stopped", lambda u: u.phase is Phase.STOPPED, 5)
        assert stopped.deployment is not None and stopped.deployment.exit_code == 0
        assert stopped.explanation is None
    docker_engine.remove(deployment.container_id)
    assert deployment.container_id not in {d.container_id for d in docker_engine.list_deployments()}


@pytest.mark.fault("container-exit")
def test_kv_cache_crash_ends_crashed_with_the_fix(
    docker_engine: DockerEngine, launched: Callable[[RunRequest], Deployment]
) -> None:
    # 1M tokens x 128 KiB a token (Llama 3.1 8B): more KV cache than an 80 GB card has.
    deployment = launched(sim_request(free_port(), LLAMA, "--max-model-len", "1000000"))
    with following(docker_engine, deployment) as follower:
        crashed = follower.wait_for("a crash", lambda u: u.phase is Phase.CRASHED, 30)
    assert crashed.progress == "crashed (exit 1)"
    assert crashed.explanation is not None
    assert crashed.explanation.rule == "kv-cache-too-small"
    flag, value = crashed.explanation.setting or ("", 0)
    assert flag == "--max-model-len" and isinstance(value, int) and 0 < value < 1_000_000
    assert "Set max-model-len to" in crashed.explanation.fix


def test_a_gpu_request_on_an_engine_without_the_nvidia_runtime_is_explained(
    docker_engine: DockerEngine,
) -> None:
    request = sim_request(free_port(), gpus="all")
    with pytest.raises(EngineFailed) as failure:
        docker_engine.run(request)
    explanation = explain([str(failure.value)])
    assert explanation is not None and explanation.rule == "no-gpu-runtime"
    assert "NVIDIA Container Toolkit" in explanation.fix
    # Nothing left behind to hold the name or the port.
    assert request.name not in {d.name for d in docker_engine.list_deployments()}


def test_a_running_name_or_port_is_refused_and_a_stopped_one_replaced(
    docker_engine: DockerEngine, launched: Callable[[RunRequest], Deployment]
) -> None:
    port = free_port()
    first = launched(sim_request(port))
    same_name = same_container_on(docker_engine, first, free_port())
    with pytest.raises(EngineRefused, match="already running"):
        docker_engine.run(same_name)
    with pytest.raises(EngineRefused, match=f"port {port} is already published by the running"):
        docker_engine.run(sim_request(port))

    docker_engine.stop(first.container_id, timeout=5)
    again = launched(same_name)
    assert again.name == first.name and again.container_id != first.container_id
    with pytest.raises(NoSuchContainer):
        docker_engine.inspect(first.container_id)


def same_container_on(engine: DockerEngine, deployment: Deployment, port: int) -> RunRequest:
    """The request that made `deployment`, published on another port."""
    return RunRequest(
        image=SIM_IMAGE,
        name=deployment.name,
        command=deployment.command,
        host="127.0.0.1",
        host_port=port,
        container_port=8000,
        labels=deployment.labels,
        environment={"VLLM_API_KEY": engine.api_key(deployment.container_id) or ""},
    )


def test_restart_starts_a_new_run_and_the_log_goes_on(
    docker_engine: DockerEngine, launched: Callable[[RunRequest], Deployment]
) -> None:
    deployment = launched(sim_request(free_port()))
    with following(docker_engine, deployment) as follower:
        follower.wait_for("ready", lambda u: u.models is not None, 30)
        docker_engine.restart(deployment.container_id, timeout=5)
        follower.wait_for("a new run", lambda u: u.restarted, 10)
        follower.wait_for(
            "ready again", lambda u: u.models is not None and u is follower.updates[-1], 30
        )
        banner = [line for line in follower.lines if "vLLM API server version" in line]
    assert len(banner) == 2  # each run's once: nothing read twice, nothing lost


@pytest.mark.fault("container-exit")
def test_a_container_killed_from_outside_shows_within_two_seconds(
    docker_engine: DockerEngine, launched: Callable[[RunRequest], Deployment]
) -> None:
    import docker

    deployment = launched(sim_request(free_port()))
    with following(docker_engine, deployment) as follower:
        follower.wait_for("ready", lambda u: u.models is not None, 30)
        docker.from_env().api.kill(deployment.container_id)
        killed_at = time.monotonic()
        crashed = follower.wait_for("the kill", lambda u: u.phase is Phase.CRASHED, 5)
        assert time.monotonic() - killed_at < 2.0
    assert crashed.deployment is not None
    assert crashed.deployment.state == ContainerState.EXITED
    assert crashed.progress == "crashed (exit 137)"


def test_a_vllm_container_vtui_did_not_start_is_found_with_its_model(
    docker_engine: DockerEngine,
) -> None:
    """Started by hand (`docker run vllm/vllm-openai ... --model M`), no vtui labels."""
    import docker

    client = docker.from_env()
    client.images.get(SIM_IMAGE).tag("vllm/vllm-openai", "vtui-test")
    name = f"by-hand-{secrets.token_hex(3)}"
    container = client.containers.run(
        "vllm/vllm-openai:vtui-test",
        ["--model", QWEN, "--max-model-len", "8192"],
        name=name,
        detach=True,
        ports={"8000/tcp": ("127.0.0.1", free_port())},
    )
    try:
        found = {d.name: d for d in docker_engine.list_deployments()}
        assert name in found
        assert not found[name].managed and found[name].model == QWEN
        assert found[name].state == ContainerState.RUNNING
        with following(docker_engine, found[name]) as follower:
            follower.wait_for("/v1/models", lambda u: u.models is not None, 30)
    finally:
        container.remove(force=True)
        client.images.remove("vllm/vllm-openai:vtui-test")
