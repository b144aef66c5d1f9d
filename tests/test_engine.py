"""The real Docker engine runs the vLLM simulator the way vtui will run vLLM."""

from __future__ import annotations

import contextlib
import secrets
import time

import httpx
import pytest

from tests.conftest import SIM_IMAGE
from tests.support.helpers import free_port, wait_for_health
from vtui.backends.endpoint import EndpointError
from vtui.backends.endpoint.http import HttpEndpoint
from vtui.backends.engine.docker_engine import DockerEngine
from vtui.core import labels
from vtui.core.errors import EngineError
from vtui.core.records import ContainerState, RunRequest

pytestmark = pytest.mark.engine
MODEL = "Qwen/Qwen2.5-7B-Instruct"


def sim_container(name: str, port: int, model: str, *args: str, **env: str) -> RunRequest:
    """The simulator image run as vtui runs vLLM: model at /app/model, port on loopback."""
    return RunRequest(
        image=SIM_IMAGE,
        name=name,
        host="127.0.0.1",
        host_port=port,
        container_port=8000,
        command=("--model", "/app/model", "--served-model-name", model, *args),
        environment=dict(env),
        labels=labels.vtui_labels(model, "engine-test"),
    )


LLAMA = "meta-llama/Llama-3.1-8B-Instruct"


@pytest.mark.security("loopback-bind")
def test_simulator_container_serves_on_loopback_only(docker_engine: DockerEngine) -> None:
    import docker

    api_key = secrets.token_urlsafe(24)
    port = free_port()
    name = f"vtui-test-{secrets.token_hex(4)}"
    deployment = docker_engine.run(
        sim_container(
            name,
            port,
            MODEL,
            "--sim-startup-seconds",
            "0.5",
            "--trust-remote-code",
            "--dtype",
            "auto",
            VLLM_API_KEY=api_key,
        )
    )
    try:
        print(
            f"engine test: {docker_engine.label}, container {deployment.container_id[:12]} "
            f"on 127.0.0.1:{port}"
        )
        assert deployment.host == "127.0.0.1" and deployment.port == port
        raw = docker.from_env().api.inspect_container(deployment.container_id)
        bindings = raw["HostConfig"]["PortBindings"]["8000/tcp"]
        assert bindings == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
        assert raw["HostConfig"]["IpcMode"] == "host"

        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, limit=30)
        assert httpx.get(f"{url}/v1/models").status_code == 401
        key = docker_engine.api_key(deployment.container_id)
        assert key == api_key
        endpoint = HttpEndpoint(url, key)
        assert endpoint.health()
        assert endpoint.served_models() == [MODEL]
        with pytest.raises(EndpointError, match="401"):
            HttpEndpoint(url, "wrong-key").served_models()

        listed = {d.name: d for d in docker_engine.list_deployments()}
        assert listed[name].state == ContainerState.RUNNING
        assert listed[name].model == MODEL

        log = docker_engine.logs(deployment.container_id)
        assert any("vLLM API server version" in line for line in log)
        assert any(line.endswith("Application startup complete.") for line in log)
        assert any('"GET /v1/models HTTP/1.1" 200 OK' in line for line in log)
        assert not any(api_key in line for line in log)

        started = time.monotonic()
        docker_engine.stop(deployment.container_id, timeout=10)
        assert time.monotonic() - started < 5  # SIGTERM honoured, no SIGKILL wait
        stopped = {d.name: d for d in docker_engine.list_deployments()}[name]
        assert stopped.state == ContainerState.EXITED and stopped.exit_code == 0
    finally:
        with contextlib.suppress(EngineError):
            docker_engine.stop(deployment.container_id, timeout=2)
        docker_engine.remove(deployment.container_id)
    assert name not in {d.name for d in docker_engine.list_deployments()}


@pytest.mark.fault("container-exit")
def test_a_failing_server_exits_with_vllms_error_in_the_log(docker_engine: DockerEngine) -> None:
    name = f"vtui-test-{secrets.token_hex(4)}"
    # 1M tokens x 128 KiB a token (Llama 3.1 8B): more KV cache than an 80 GB card has.
    deployment = docker_engine.run(
        sim_container(
            name, free_port(), LLAMA, "--max-model-len", "1000000", "--sim-startup-seconds", "0"
        )
    )
    try:
        deadline = time.monotonic() + 30
        state = deployment
        while time.monotonic() < deadline:
            state = {d.name: d for d in docker_engine.list_deployments()}[name]
            if state.state == ContainerState.EXITED:
                break
            time.sleep(0.2)
        assert state.state == ContainerState.EXITED and state.exit_code == 1
        assert any(
            "KV cache is needed, which is larger than the available KV cache memory" in line
            for line in docker_engine.logs(deployment.container_id)
        )
    finally:
        docker_engine.stop(deployment.container_id, timeout=2)
        docker_engine.remove(deployment.container_id)
