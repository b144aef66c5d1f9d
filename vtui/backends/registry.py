"""Which implementation stands behind each interface, and which folders go with it: the
real systems and the user's folders, or the demo world and its own folder.

`backends_for` is the one call both front ends make; `--demo` is its one switch.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vtui.backends.endpoint import ChatEndpoint
from vtui.backends.engine import ContainerEngine
from vtui.backends.gpu import GpuMonitor, LazyGpus
from vtui.backends.hub import ModelHub
from vtui.core.records import Deployment
from vtui.locations import Locations, demo_home, demo_locations, user_locations

if TYPE_CHECKING:
    from vtui.backends.engine.attached import AttachedEndpoints
    from vtui.backends.files.calibration_store import CalibrationStore
    from vtui.backends.files.profile_store import ProfileStore
    from vtui.backends.host import MachineProbe
    from vtui.backends.hosts.engines import HostEngines


@dataclass
class Backends:
    engine: ContainerEngine
    hub: ModelHub
    gpu: GpuMonitor
    endpoint_for: Callable[[Deployment], ChatEndpoint]
    demo: bool
    # Every folder this run reads or writes: the user's, or the demo's own.
    places: Locations
    # Whether something on this machine already listens on host:port.
    port_in_use: Callable[[str, int], bool]
    # Endpoints attached by URL (`vtui attach`); the engine lists them with the rest.
    attached: AttachedEndpoints
    # What `vtui doctor` asks this machine (or the demo's).
    machine: MachineProbe
    # The Docker hosts behind `engine` (the same object): their states, and running on one.
    hosts: HostEngines | None = None

    def profiles(self) -> ProfileStore:
        """The launch profiles of this run's config folder (tomlkit loads on first use).
        The demo's starts with the profile of its own container, as a user's would."""
        from vtui.backends.files.profile_store import ProfileStore

        store = ProfileStore(self.places.config)
        if self.demo and not store.profiles_dir.exists():
            from vtui.core.errors import ProfileError
            from vtui.sim.demo_world import demo_profile

            with contextlib.suppress(ProfileError):  # another thread made it first
                store.create(demo_profile())
        return store

    def calibration(self) -> CalibrationStore:
        """What real starts on this machine measured (the demo's world has its own)."""
        from vtui.backends.files.calibration_store import CalibrationStore

        return CalibrationStore(self.places.state)


def backends_for(demo: bool, seed: int = 7, gpu_count: int = 2, host_count: int = 1) -> Backends:
    """What every command and screen runs on: the real systems, or (demo) the demo world
    kept in its folder for this seed and GPU count, with host_count - 1 simulated remote
    hosts beside this machine."""
    if demo:
        return demo_backends(
            seed,
            gpu_count=gpu_count,
            home=demo_home(seed, gpu_count),
            remote_hosts=host_count - 1,
        )
    return real_backends()


def endpoint_at(url: str, api_key: str | None) -> ChatEndpoint:
    """Any OpenAI-compatible server, demo or not: --endpoint is always the real thing."""
    from vtui.backends.endpoint.http import HttpEndpoint

    return HttpEndpoint(url, api_key)


def _nvml() -> GpuMonitor:
    from vtui.backends.gpu.nvml import NvmlGpus

    return NvmlGpus()


def real_backends() -> Backends:
    from vtui.backends.endpoint.http import HttpEndpoint
    from vtui.backends.engine.attached import AttachedEndpoints
    from vtui.backends.engine.docker_engine import DockerEngine
    from vtui.backends.engine.engine_set import EngineSet
    from vtui.backends.engine.process import ProcessEngine
    from vtui.backends.host.machine import RealMachine
    from vtui.backends.hosts.connect import remote_engine
    from vtui.backends.hosts.engines import HostEngines, RemoteHost
    from vtui.backends.hosts.files import FileHostBook
    from vtui.backends.hub.hf import HfHub
    from vtui.core.hosts import LOCAL

    places = user_locations()
    attached = AttachedEndpoints(places.state)
    hosts, problems = FileHostBook(places.config).hosts()
    engine = HostEngines(
        EngineSet(DockerEngine(), ProcessEngine(places.state), attached),
        hosts[0],
        [RemoteHost(h, remote_engine) for h in hosts if h.name != LOCAL],
        problems=problems,
    )
    hub = HfHub()

    def endpoint_for(deployment: Deployment) -> ChatEndpoint:
        # A remote host's deployment through its tunnel: its port stays bound over there.
        url = engine.base_url(deployment) or "http://127.0.0.1:8000"
        return HttpEndpoint(url, engine.api_key(deployment.container_id))

    def port_in_use(host: str, port: int) -> bool:
        from vtui.backends.host.ports import port_in_use as probe

        return probe(host, port)

    return Backends(
        engine=engine,
        hub=hub,
        gpu=LazyGpus("NVML", _nvml),
        endpoint_for=endpoint_for,
        demo=False,
        places=places,
        port_in_use=port_in_use,
        attached=attached,
        machine=RealMachine(hub_endpoint=hub.endpoint),
        hosts=engine,
    )


def demo_backends(
    seed: int = 7,
    clock: Callable[[], float] | None = None,
    token_delay: float = 0.03,
    gpu_count: int = 2,
    home: Path | None = None,
    remote_hosts: int = 0,
) -> Backends:
    """The demo world. With `home`, its containers are kept in home's journal (so separate
    commands share them) on the wall clock; without, it lives in this process alone, in a
    fresh private temporary folder removed at exit."""
    from vtui.backends.endpoint.simulated import SimulatedEndpoint
    from vtui.backends.engine.attached import AttachedEndpoints
    from vtui.backends.engine.engine_set import EngineSet
    from vtui.backends.engine.simulated import SimulatedEngine
    from vtui.backends.host.simulated import DemoMachine
    from vtui.backends.hosts.engines import Connection, HostEngines, RemoteHost
    from vtui.backends.hub.simulated import SimulatedHub
    from vtui.core.hosts import LOCAL, Host, split_id
    from vtui.sim.demo_world import DemoWorld

    kept = home is not None
    home = home if home is not None else _private_temporary_folder()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    places = demo_locations(home)
    world = DemoWorld(seed, clock, gpu_count, journal=places.demo_world if kept else None)

    # A URL attached under --demo is real (as --endpoint is); the demo keeps its list.
    attached = AttachedEndpoints(places.state)
    # Each simulated remote host is a world of its own, as a second GPU box would be.
    worlds = {LOCAL: world}
    for number in range(2, remote_hosts + 2):
        name = f"gpu-{number}"
        journal = home / f"world-{name}.jsonl" if kept else None
        worlds[name] = DemoWorld(seed + number, clock, gpu_count, journal=journal)

    remote_hubs: dict[str, SimulatedHub] = {}

    def simulated_host(host: Host) -> Connection:
        from vtui.backends.gpu.simulated import simulated_gpus

        there = worlds[host.name]
        # Each box has an HF cache of its own: what is downloaded there is there only.
        hub_there = remote_hubs.setdefault(host.name, SimulatedHub())
        return Connection(
            SimulatedEngine(there),
            lambda: None,
            gpus=lambda: simulated_gpus(there),
            downloads=lambda: hub_there,
        )

    engine = HostEngines(
        EngineSet(SimulatedEngine(world), None, attached),
        Host(LOCAL, "simulated://demo", "local"),
        [
            RemoteHost(Host(name, f"ssh://demo@{name}", "demo"), simulated_host)
            for name in worlds
            if name != LOCAL
        ],
    )

    def simulated_gpus() -> GpuMonitor:
        from vtui.backends.gpu.simulated import simulated_gpus

        return simulated_gpus(world)

    def endpoint_for(deployment: Deployment) -> ChatEndpoint:
        if deployment.runtime == "endpoint":
            return endpoint_at(deployment.image, engine.api_key(deployment.container_id))
        if deployment.engine_host != LOCAL:  # the host's own world knows it by its own id
            inner = split_id(deployment.container_id)[1]
            deployment = dataclasses.replace(deployment, container_id=inner)
        return SimulatedEndpoint(worlds[deployment.engine_host], deployment, token_delay)

    def port_in_use(host: str, port: int) -> bool:
        return any(d.port == port and d.state == "running" for d in world.deployments())

    return Backends(
        engine=engine,
        hub=SimulatedHub(),
        gpu=LazyGpus("simulated NVML", simulated_gpus),
        endpoint_for=endpoint_for,
        demo=True,
        places=places,
        port_in_use=port_in_use,
        attached=attached,
        machine=DemoMachine(gpu_count),
        hosts=engine,
    )


def _private_temporary_folder() -> Path:
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="vtui-demo-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder
