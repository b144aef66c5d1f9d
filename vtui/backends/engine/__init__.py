"""The container engine interface: run, watch and stop vLLM containers."""

from __future__ import annotations

from typing import Protocol

from vtui.core.records import Deployment, RunRequest


class ContainerEngine(Protocol):
    #: Shown to the user: which engine this is ("Docker Engine 28.2", "simulated engine").
    label: str

    def list_deployments(self) -> list[Deployment]:
        """vtui's containers (those with its labels), running or not. Raises BackendUnavailable."""
        ...

    def logs(self, container_id: str, tail: int = 1000) -> list[str]:
        """The container's last `tail` log lines, stdout and stderr together."""
        ...

    def run(self, request: RunRequest) -> Deployment:
        """Create and start a container; returns it as a Deployment."""
        ...

    def api_key(self, container_id: str) -> str | None:
        """The key the container's server demands (its VLLM_API_KEY), for vtui's own requests.

        Never shown: the UI passes it to the endpoint client and nowhere else.
        """
        ...

    def stop(self, container_id: str, timeout: int = 10) -> None: ...

    def remove(self, container_id: str) -> None: ...
