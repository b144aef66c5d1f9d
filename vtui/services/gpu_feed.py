"""One GPU reading for the screens: NVML's figures with each process's container named."""

from __future__ import annotations

from collections.abc import Sequence

from vtui.backends.registry import Backends
from vtui.core.errors import BackendUnavailable
from vtui.core.gpu_owners import attribute
from vtui.core.records import Deployment, GpuSnapshot


def read_gpus(backends: Backends, deployments: Sequence[Deployment]) -> GpuSnapshot:
    """Raises BackendUnavailable when NVML gives nothing; an engine that cannot be reached
    only leaves the processes without their containers."""
    engine = backends.engine
    snapshot = backends.gpu.snapshot()
    pids = {p.pid for g in snapshot.gpus for p in g.all_processes}
    if not pids:
        return snapshot
    try:
        owners = engine.containers_of(pids)
    except BackendUnavailable:
        owners = {}
    return attribute(snapshot, owners, {d.container_id: d.name for d in deployments})


def read_host_gpus(
    backends: Backends, host: str | None, deployments: Sequence[Deployment]
) -> tuple[GpuSnapshot, str]:
    """The GPUs of one host (None or "local": this machine's, through NVML), each process's
    container named as on this machine, and where the figures came from. Raises
    BackendUnavailable."""
    from vtui.core.hosts import remote_id

    layer = backends.hosts
    if host in (None, "local") or layer is None:
        return read_gpus(backends, deployments), backends.gpu.label
    remote = layer.remotes.get(host)
    if remote is None:
        raise BackendUnavailable(f"no host called {host!r} (see `vtui hosts`)")
    monitor = remote.gpus()
    snapshot = monitor.snapshot()
    pids = {p.pid for g in snapshot.gpus for p in g.all_processes}
    owners: dict[int, str] = {}
    if pids:
        try:  # the host's PIDs, told apart by that host's own engine
            owners = {
                pid: remote_id(host, cid) for pid, cid in remote.engine.containers_of(pids).items()
            }
        except BackendUnavailable:
            owners = {}
    names = {d.container_id: d.name for d in deployments}
    return attribute(snapshot, owners, names), monitor.label
