"""The host and profile check: one function for the Launch screen, `vtui profile` and
`vtui up`, so the same profile gets the same problems in the same words everywhere."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from vtui.backends.files.model_files import model_facts
from vtui.backends.gpu import GpuMonitor
from vtui.backends.registry import Backends
from vtui.core import labels
from vtui.core.errors import BackendUnavailable
from vtui.core.hosts import LOCAL
from vtui.core.launch_checks import HostFacts, ModelFacts, Problem, check
from vtui.core.launch_spec import PROCESS, LaunchSpec
from vtui.core.records import Deployment, GpuReading


def gpu_readings(gpu: GpuMonitor) -> tuple[GpuReading, ...]:
    """One snapshot's GPUs; none when the monitor cannot answer, whatever the reason (the
    GPU strip says why)."""
    try:
        return gpu.snapshot().gpus
    except Exception:
        return ()


def host_facts(
    gpus: Sequence[GpuReading], host: str, port: int, port_taken: Callable[[str, int], bool]
) -> HostFacts:
    capabilities = [g.compute_capability for g in gpus if g.compute_capability]
    return HostFacts(
        gpu_count=len(gpus) if gpus else None,
        compute_capability=min(capabilities) if capabilities else None,
        ports_in_use=frozenset({port}) if port_taken(host, port) else frozenset(),
    )


@dataclass(frozen=True)
class HostReading:
    """What this machine says about one profile; `problems` rechecks edits without I/O."""

    facts: HostFacts
    model: ModelFacts | None
    gpus: tuple[GpuReading, ...]

    def problems(self, spec: LaunchSpec) -> list[Problem]:
        return check(spec, self.facts, self.model)


def read_host(
    backends: Backends, spec: LaunchSpec, deployments: Sequence[Deployment] | None = None
) -> HostReading:
    """GPUs through the registry's monitor, the port through its probe (the profile's own
    running container holding its port is no conflict), the model's config.json if here."""
    if deployments is None:
        try:
            deployments = backends.engine.list_deployments()
        except BackendUnavailable:
            deployments = ()

    def taken_by_another(host: str, port: int) -> bool:
        own = any(
            d.live and d.port == port and d.labels.get(labels.PROFILE) == spec.name
            for d in deployments
        )
        return not own and backends.port_in_use(host, port)

    # A profile that names its host is judged on that host's GPUs; its ports are that
    # host's engine's to judge, not this machine's probe.
    remote = spec.docker_host not in (None, "", LOCAL)
    gpus = attributed_readings(backends, deployments, spec.docker_host or None)
    port_taken = (lambda _h, _p: False) if remote else taken_by_another
    facts = host_facts(gpus, spec.host, spec.port, port_taken)
    if spec.runtime == PROCESS and not backends.demo and shutil.which(spec.vllm_program) is None:
        facts = replace(facts, missing_program=spec.vllm_program)
    if spec.multinode:
        facts = replace(facts, node_gpus=node_gpus(backends, spec, deployments))
    return HostReading(facts, model_facts(spec), gpus)


def node_gpus(
    backends: Backends, spec: LaunchSpec, deployments: Sequence[Deployment] = ()
) -> dict[str, int | None]:
    """Each node's GPU count (None where its GPUs cannot be read), every host read at once:
    whether tensor parallel fits inside each node is judged on them."""
    from concurrent.futures import ThreadPoolExecutor

    from vtui.core.multinode import head_host

    hosts = [head_host(spec), *spec.worker_hosts]

    def count(host: str) -> int | None:
        if host != LOCAL and (backends.hosts is None or host not in backends.hosts.remotes):
            return None  # no such host: the launch says so, not a GPU count
        return len(attributed_readings(backends, deployments, host)) or None

    with ThreadPoolExecutor(max_workers=min(8, len(hosts))) as pool:
        return dict(zip(hosts, pool.map(count, hosts), strict=True))


def attributed_readings(
    backends: Backends, deployments: Sequence[Deployment], host: str | None = None
) -> tuple[GpuReading, ...]:
    """The GPUs of `host` (default: this machine) with each process's container named
    (the fit names what holds memory)."""
    from vtui.services.gpu_feed import read_host_gpus

    try:
        return read_host_gpus(backends, host, deployments)[0].gpus
    except Exception:  # the GPU strip says why; the checks go on without GPUs
        return ()


def check_profile(
    backends: Backends, spec: LaunchSpec, engine_host: str | None = None
) -> list[Problem]:
    """The profile against this machine; on a remote host only what the profile says
    alone is checked (that host's ports and GPUs are its engine's to judge)."""
    if engine_host not in (None, LOCAL):
        facts = HostFacts()
        if spec.multinode:  # every node's GPUs, the head's on the host it now goes to
            facts = replace(
                facts, node_gpus=node_gpus(backends, replace(spec, docker_host=engine_host))
            )
        return check(spec, facts, model_facts(spec))
    return read_host(backends, spec).problems(spec)
