"""The real container engine: the Docker Engine API through docker-py."""

from __future__ import annotations

import os
from typing import Any

from vtui.core import labels
from vtui.core.records import BackendUnavailable, ContainerState, Deployment, RunRequest

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
_STATES = {
    "created": ContainerState.CREATED,
    "restarting": ContainerState.STARTING,
    "running": ContainerState.RUNNING,
    "removing": ContainerState.STOPPING,
    "paused": ContainerState.UNKNOWN,
    "exited": ContainerState.EXITED,
    "dead": ContainerState.DEAD,
}


def _state(attrs: dict[str, Any]) -> ContainerState:
    raw = attrs.get("State", {})
    state = _STATES.get(raw.get("Status", ""), ContainerState.UNKNOWN)
    health = (raw.get("Health") or {}).get("Status")
    if state == ContainerState.RUNNING and health == "starting":
        return ContainerState.STARTING
    if state == ContainerState.RUNNING and health == "unhealthy":
        return ContainerState.UNHEALTHY
    return state


def _published(attrs: dict[str, Any]) -> tuple[str, int | None]:
    bindings = (attrs.get("HostConfig") or {}).get("PortBindings") or {}
    for binding in bindings.values():
        for entry in binding or []:
            port = entry.get("HostPort")
            if port:
                return entry.get("HostIp") or "0.0.0.0", int(port)
    return "", None


class DockerEngine:
    def __init__(self, base_url: str | None = None) -> None:
        self._base_url = base_url
        self._client: Any = None
        self.label = "Docker Engine"

    def _docker(self) -> Any:
        if self._client is None:
            import docker  # imported here: docker-py costs start-up time

            try:
                client = (
                    docker.DockerClient(base_url=self._base_url)
                    if self._base_url
                    else docker.from_env()
                )
                version = client.version().get("Version", "?")
            except docker.errors.DockerException as exc:
                where = self._base_url or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
                raise BackendUnavailable(
                    f"cannot reach the Docker engine at {where}: {_why(exc)}"
                ) from exc
            self._client = client
            self.label = f"Docker Engine {version}"
        return self._client

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import docker

        try:
            return fn(*args, **kwargs)
        except docker.errors.NotFound as exc:
            raise KeyError(f"{what}: no such container") from exc
        except docker.errors.APIError as exc:
            raise RuntimeError(f"{what}: {exc.explanation or exc}") from exc
        except docker.errors.DockerException as exc:
            raise BackendUnavailable(f"{what}: {_short(exc)}") from exc

    def _deployment(self, container: Any) -> Deployment:
        attrs = container.attrs
        host, port = _published(attrs)
        container_labels = dict((attrs.get("Config") or {}).get("Labels") or {})
        exit_code = (attrs.get("State") or {}).get("ExitCode")
        state = _state(attrs)
        return Deployment(
            container_id=container.id,
            name=container.name,
            image=(attrs.get("Config") or {}).get("Image", ""),
            model=container_labels.get(labels.MODEL, "?"),
            state=state,
            host=host,
            port=port,
            exit_code=exit_code if state in (ContainerState.EXITED, ContainerState.DEAD) else None,
            labels=container_labels,
        )

    def list_deployments(self) -> list[Deployment]:
        client = self._docker()
        found = self._call(
            "list containers",
            client.containers.list,
            all=True,
            filters={"label": f"{labels.MANAGED}=true"},
        )
        return [self._deployment(c) for c in found]

    def logs(self, container_id: str, tail: int = 1000) -> list[str]:
        container = self._call("logs", self._docker().containers.get, container_id)
        raw: bytes = self._call(
            "logs", container.logs, stdout=True, stderr=True, tail=tail if tail else "all"
        )
        return raw.decode("utf-8", errors="replace").splitlines()

    def run(self, request: RunRequest) -> Deployment:
        import docker

        client = self._docker()
        device_requests = None
        if request.gpus == "all":
            device_requests = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
        elif isinstance(request.gpus, tuple):
            device_requests = [
                docker.types.DeviceRequest(
                    device_ids=[str(i) for i in request.gpus], capabilities=[["gpu"]]
                )
            ]
        container = self._call(
            "run",
            client.containers.run,
            request.image,
            list(request.command),
            name=request.name,
            detach=True,
            environment=dict(request.environment),
            labels=dict(request.labels),
            ports={f"{request.container_port}/tcp": (request.host, request.host_port)},
            device_requests=device_requests,
            ipc_mode="host" if request.ipc_host else None,
            volumes={src: {"bind": dst, "mode": "rw"} for src, dst in request.volumes.items()},
        )
        container.reload()
        return self._deployment(container)

    def api_key(self, container_id: str) -> str | None:
        container = self._call("inspect", self._docker().containers.get, container_id)
        for entry in (container.attrs.get("Config") or {}).get("Env") or []:
            name, _, value = entry.partition("=")
            if name == "VLLM_API_KEY":
                return str(value)
        return None

    def stop(self, container_id: str, timeout: int = 10) -> None:
        container = self._call("stop", self._docker().containers.get, container_id)
        self._call("stop", container.stop, timeout=timeout)

    def remove(self, container_id: str) -> None:
        container = self._call("remove", self._docker().containers.get, container_id)
        self._call("remove", container.remove)


def _why(exc: Exception) -> str:
    """docker-py wraps the socket error in layers of text; say what it means instead."""
    text = str(exc)
    if "FileNotFoundError" in text or "No such file" in text:
        return "no socket there. Is Docker Engine installed and dockerd running?"
    if "PermissionError" in text or "Permission denied" in text:
        return "permission denied. Run as root or join the docker group."
    if "Connection refused" in text:
        return "connection refused. Is dockerd running?"
    return _short(exc)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
