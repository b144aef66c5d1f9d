"""The demo's container engine: containers live in the DemoWorld, logs replay vLLM's start-up."""

from __future__ import annotations

from vtui.backends.demo_world import DemoWorld
from vtui.core.records import Deployment, RunRequest


class SimulatedEngine:
    label = "simulated engine"

    def __init__(self, world: DemoWorld) -> None:
        self.world = world

    def list_deployments(self) -> list[Deployment]:
        return self.world.deployments()

    def logs(self, container_id: str, tail: int = 1000) -> list[str]:
        return self.world.logs(container_id, tail)

    def run(self, request: RunRequest) -> Deployment:
        return self.world.run(request)

    def api_key(self, container_id: str) -> str | None:
        return self.world.api_key(container_id)

    def stop(self, container_id: str, timeout: int = 10) -> None:
        self.world.stop(container_id)

    def remove(self, container_id: str) -> None:
        self.world.remove(container_id)
