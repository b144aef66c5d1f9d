"""Which container each GPU process belongs to, and how a GPU's memory splits between them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from vtui.core.records import GpuProcess, GpuReading, GpuSnapshot

# A container's id closes its cgroup path under every runtime vtui meets: cgroup v1
# ("/docker/<id>"), systemd's driver ("docker-<id>.scope"), containerd and CRI-O under
# Kubernetes ("cri-containerd-<id>.scope", ".../pod.../<id>"), podman ("libpod-<id>.scope").
_CONTAINER_IN_CGROUP = re.compile(r"[/-]([0-9a-f]{64})(?:\.scope)?/?$")


def container_in_cgroup(cgroup_file: str) -> str | None:
    """The container id in the text of a process's /proc/PID/cgroup, if it runs in one."""
    for line in cgroup_file.splitlines():
        path = line.split(":", 2)[-1].strip()
        found = _CONTAINER_IN_CGROUP.search(path)
        if found:
            return found.group(1)
    return None


def attribute(
    snapshot: GpuSnapshot, owners: Mapping[int, str], names: Mapping[str, str]
) -> GpuSnapshot:
    """The snapshot with each process's container (owners: PID -> container id; names:
    container id -> name, for the containers the engine lists)."""

    def own(proc: GpuProcess) -> GpuProcess:
        container = owners.get(proc.pid)
        if container is None:
            return proc
        return replace(proc, container_id=container, container_name=names.get(container))

    def own_all(gpu: GpuReading) -> GpuReading:
        return replace(
            gpu,
            processes=tuple(own(p) for p in gpu.processes),
            mig=tuple(replace(m, processes=tuple(own(p) for p in m.processes)) for m in gpu.mig),
        )

    return replace(snapshot, gpus=tuple(own_all(g) for g in snapshot.gpus))


@dataclass(frozen=True)
class MemorySplit:
    """One GPU's memory, in MiB: the chosen deployment's, everyone else's, and what is left.

    `others` is what NVML counts as used less the deployment's processes: other programs,
    the CUDA contexts of processes NVML cannot list (in another PID namespace), and so on.
    """

    total: int
    deployment: int
    others: int
    free: int
    reserved: int


def memory_split(gpu: GpuReading, container_id: str | None) -> MemorySplit | None:
    if gpu.memory_total_mib is None or gpu.memory_used_mib is None:
        return None
    mine = sum(
        p.memory_used_mib or 0
        for p in gpu.processes
        if container_id is not None and p.container_id == container_id
    )
    mine = min(mine, gpu.memory_used_mib)
    reserved = gpu.memory_reserved_mib or 0
    free = (
        gpu.memory_free_mib
        if gpu.memory_free_mib is not None
        else gpu.memory_total_mib - reserved - gpu.memory_used_mib
    )
    return MemorySplit(
        total=gpu.memory_total_mib,
        deployment=mine,
        others=gpu.memory_used_mib - mine,
        free=max(0, free),
        reserved=reserved,
    )
