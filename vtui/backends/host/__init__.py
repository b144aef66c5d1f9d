"""This machine itself: its ports, its distribution, its disks and /dev/shm, and the facts
`vtui doctor` gathers from every system vtui talks to."""

from __future__ import annotations

from typing import Protocol

from vtui.core.doctor import DiskFacts, EngineFacts, GpuRun, HubFacts
from vtui.core.doctor_fixes import Distro


class MachineProbe(Protocol):
    """Each call answers within its own deadline and raises nothing: a fact it cannot read
    comes back with the reason."""

    def distro(self) -> Distro: ...

    def engine(self) -> EngineFacts: ...

    def gpu_run(self, image: str | None) -> GpuRun:
        """`nvidia-smi -L` in a short-lived container of `image`, with every GPU."""
        ...

    def disk(self, label: str, path: str) -> DiskFacts: ...

    def hub(self, gated_repo: str | None) -> HubFacts: ...

    def shm_bytes(self) -> int | None: ...

    def hf_cache(self) -> str: ...
