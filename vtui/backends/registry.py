"""Which implementation stands behind each interface: the real systems, or the demo world."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vtui.backends.endpoint import ChatEndpoint
from vtui.backends.engine import ContainerEngine
from vtui.backends.gpu import GpuMonitor, LazyGpus
from vtui.backends.hub import ModelHub
from vtui.core.records import Deployment


@dataclass
class Backends:
    engine: ContainerEngine
    hub: ModelHub
    gpu: GpuMonitor
    endpoint_for: Callable[[Deployment], ChatEndpoint]
    demo: bool
    # Where launch profiles live (ProfileStore is made from it when a screen needs it).
    profiles_root: Path
    # Whether something on this machine already listens on host:port.
    port_in_use: Callable[[str, int], bool]
    # Where the chat saves conversations.
    chats_root: Path = field(default_factory=lambda: default_chats_root())


def default_chats_root(env: Mapping[str, str] = os.environ) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local/share")
    return Path(base) / "vtui" / "chats"


def endpoint_at(url: str, api_key: str | None) -> ChatEndpoint:
    """Any OpenAI-compatible server, demo or not: --endpoint is always the real thing."""
    from vtui.backends.endpoint.http import HttpEndpoint

    return HttpEndpoint(url, api_key)


def _nvml() -> GpuMonitor:
    from vtui.backends.gpu.nvml import NvmlGpus

    return NvmlGpus()


def real_backends() -> Backends:
    from vtui.backends.endpoint.http import HttpEndpoint
    from vtui.backends.engine.docker_engine import DockerEngine
    from vtui.backends.hub.hf import HfHub

    engine = DockerEngine()

    def endpoint_for(deployment: Deployment) -> ChatEndpoint:
        url = deployment.base_url or "http://127.0.0.1:8000"
        return HttpEndpoint(url, engine.api_key(deployment.container_id))

    def port_in_use(host: str, port: int) -> bool:
        from vtui.backends.host.ports import port_in_use as probe

        return probe(host, port)

    from vtui.backends.files.profile_store import default_root

    return Backends(
        engine=engine,
        hub=HfHub(),
        gpu=LazyGpus("NVML", _nvml),
        endpoint_for=endpoint_for,
        demo=False,
        profiles_root=default_root(),
        port_in_use=port_in_use,
    )


def demo_backends(
    seed: int = 7,
    clock: Callable[[], float] | None = None,
    token_delay: float = 0.03,
    gpu_count: int = 2,
) -> Backends:
    from vtui.backends.endpoint.simulated import SimulatedEndpoint
    from vtui.backends.engine.simulated import SimulatedEngine
    from vtui.backends.hub.simulated import SimulatedHub
    from vtui.sim.demo_world import DemoWorld

    world = DemoWorld(seed, clock, gpu_count)

    def simulated_gpus() -> GpuMonitor:
        from vtui.backends.gpu.simulated import simulated_gpus

        return simulated_gpus(world)

    def endpoint_for(deployment: Deployment) -> ChatEndpoint:
        return SimulatedEndpoint(world, deployment, token_delay)

    def port_in_use(host: str, port: int) -> bool:
        return any(d.port == port and d.state == "running" for d in world.deployments())

    # The demo never reads or writes the user's own profiles.
    root = Path(os.environ.get("TMPDIR", "/tmp")) / f"vtui-demo-{os.getpid()}-{id(world):x}"
    return Backends(
        engine=SimulatedEngine(world),
        hub=SimulatedHub(),
        gpu=LazyGpus("simulated NVML", simulated_gpus),
        endpoint_for=endpoint_for,
        demo=True,
        profiles_root=root,
        port_in_use=port_in_use,
        chats_root=root / "chats",
    )
