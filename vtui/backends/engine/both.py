"""The Docker engine and the process runtime as one engine: a container and a `vllm serve`
process are both deployments, listed side by side and driven by the same calls."""

from __future__ import annotations

import contextlib
from collections.abc import Collection

from vtui.backends.engine import ContainerEngine, LogFollow, PullListener
from vtui.backends.engine.process import PREFIX, ProcessEngine
from vtui.core.errors import BackendUnavailable
from vtui.core.records import Deployment, LogLine, RunRequest


class EngineAndProcesses:
    def __init__(self, docker: ContainerEngine, processes: ProcessEngine) -> None:
        self.docker, self.processes = docker, processes

    @property
    def label(self) -> str:
        return f"{self.docker.label} + processes"

    def _for(self, container_id: str) -> ContainerEngine:
        return self.processes if container_id.startswith(PREFIX) else self.docker

    def now(self) -> float:
        return self.processes.now()

    def list_deployments(self) -> list[Deployment]:
        """Both kinds; an engine out of reach hides only its own, unless nothing else is
        here to show (then its reason is the answer)."""
        processes = self.processes.list_deployments()
        try:
            containers = self.docker.list_deployments()
        except BackendUnavailable:
            if not processes:
                raise
            containers = []
        return containers + processes

    def inspect(self, container_id: str) -> Deployment:
        return self._for(container_id).inspect(container_id)

    def log_lines(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> list[LogLine]:
        return self._for(container_id).log_lines(container_id, since_ns, tail)

    def logs(self, container_id: str, tail: int = 1000) -> list[str]:
        return self._for(container_id).logs(container_id, tail)

    def follow_logs(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> LogFollow:
        return self._for(container_id).follow_logs(container_id, since_ns, tail)

    def run(self, request: RunRequest, on_pull: PullListener | None = None) -> Deployment:
        engine = self.processes if request.runtime == "process" else self.docker
        return engine.run(request, on_pull)

    def containers_of(self, pids: Collection[int]) -> dict[int, str]:
        owners = self.processes.containers_of(pids)
        with contextlib.suppress(BackendUnavailable):
            owners |= self.docker.containers_of([p for p in pids if p not in owners])
        return owners

    def api_key(self, container_id: str) -> str | None:
        return self._for(container_id).api_key(container_id)

    def stop(self, container_id: str, timeout: int = 10) -> None:
        self._for(container_id).stop(container_id, timeout)

    def restart(self, container_id: str, timeout: int = 10) -> None:
        self._for(container_id).restart(container_id, timeout)

    def remove(self, container_id: str) -> None:
        self._for(container_id).remove(container_id)
