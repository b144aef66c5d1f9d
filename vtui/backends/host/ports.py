"""Facts about this machine that launch checks need: GPUs and ports already taken."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable, Sequence

from vtui.backends.gpu import GpuMonitor
from vtui.core.launch_checks import HostFacts
from vtui.core.records import GpuReading


def port_in_use(host: str, port: int) -> bool:
    """Whether binding host:port would fail because something already has it."""
    if not 0 < port <= 65535:
        return False  # no such port: the launch checks say so, not this probe
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def gpu_readings(gpu: GpuMonitor) -> tuple[GpuReading, ...]:
    """One snapshot's GPUs; none when the monitor cannot answer, whatever the reason (the
    GPU strip says why)."""
    try:
        return gpu.snapshot().gpus
    except Exception:
        return ()


def host_facts(
    gpus: Sequence[GpuReading],
    host: str,
    port: int,
    port_taken: Callable[[str, int], bool] = port_in_use,
) -> HostFacts:
    capabilities = [g.compute_capability for g in gpus if g.compute_capability]
    return HostFacts(
        gpu_count=len(gpus) if gpus else None,
        compute_capability=min(capabilities) if capabilities else None,
        ports_in_use=frozenset({port}) if port_taken(host, port) else frozenset(),
    )
