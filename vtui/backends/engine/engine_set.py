"""The engines of one run as one: containers (Docker, or the demo's), `vllm serve`
processes, and endpoints attached by URL are all deployments, listed side by side and
driven by the same calls; an id's prefix says whose it is."""

from __future__ import annotations

import contextlib
from collections.abc import Collection

from vtui.backends.engine import ContainerEngine, LogFollow, PullListener
from vtui.backends.engine.attached import PREFIX as ATTACHED
from vtui.backends.engine.attached import AttachedEndpoints
from vtui.backends.engine.process import PREFIX as PROCESS
from vtui.core.errors import BackendUnavailable
from vtui.core.records import Deployment, LogLine, RunRequest


class EngineSet:
    def __init__(
        self,
        containers: ContainerEngine,
        processes: ContainerEngine | None,
        attached: AttachedEndpoints,
    ) -> None:
        self.containers, self.processes, self.attached = containers, processes, attached

    @property
    def label(self) -> str:
        return self.containers.label + (" + processes" if self.processes else "")

    def _for(self, container_id: str) -> ContainerEngine:
        if container_id.startswith(ATTACHED):
            return self.attached
        if container_id.startswith(PROCESS) and self.processes is not None:
            return self.processes
        return self.containers

    def now(self) -> float:
        return self.containers.now()

    def list_deployments(self) -> list[Deployment]:
        """Every kind; the container engine out of reach hides only its own, unless nothing
        else is here to show (then its reason is the answer)."""
        others = self.processes.list_deployments() if self.processes else []
        others += self.attached.list_deployments()
        try:
            containers = self.containers.list_deployments()
        except BackendUnavailable:
            if not others:
                raise
            containers = []
        return containers + others

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
        if request.runtime == "process" and self.processes is not None:
            return self.processes.run(request, on_pull)
        return self.containers.run(request, on_pull)

    def containers_of(self, pids: Collection[int]) -> dict[int, str]:
        owners = self.processes.containers_of(pids) if self.processes else {}
        with contextlib.suppress(BackendUnavailable):
            owners |= self.containers.containers_of([p for p in pids if p not in owners])
        return owners

    def api_key(self, container_id: str) -> str | None:
        return self._for(container_id).api_key(container_id)

    def stop(self, container_id: str, timeout: int = 10) -> None:
        self._for(container_id).stop(container_id, timeout)

    def restart(self, container_id: str, timeout: int = 10) -> None:
        self._for(container_id).restart(container_id, timeout)

    def remove(self, container_id: str) -> None:
        self._for(container_id).remove(container_id)
