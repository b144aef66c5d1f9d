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
