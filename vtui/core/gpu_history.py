"""The last minutes of each GPU's memory and utilization, for the sparklines."""

from __future__ import annotations

from collections import deque

from vtui.core.records import GpuSnapshot

KEEP_SAMPLES = 300  # five minutes at the default 1 s


class GpuHistory:
    def __init__(self, keep: int = KEEP_SAMPLES) -> None:
        self.keep = keep
        self._memory: dict[int, deque[float | None]] = {}
        self._utilization: dict[int, deque[float | None]] = {}
        self.samples = 0

    def add(self, snapshot: GpuSnapshot) -> None:
        self.samples += 1
        for gpu in snapshot.gpus:
            memory = self._memory.setdefault(gpu.index, deque(maxlen=self.keep))
            util = self._utilization.setdefault(gpu.index, deque(maxlen=self.keep))
            total, used = gpu.memory_total_mib, gpu.memory_used_mib
            memory.append(used / total if total and used is not None else None)
            util.append(gpu.utilization_pct / 100 if gpu.utilization_pct is not None else None)

    def add_gap(self) -> None:
        """A reading that failed: the sparklines show the hole rather than close it up."""
        for series in (*self._memory.values(), *self._utilization.values()):
            series.append(None)

    def memory(self, index: int) -> list[float | None]:
        return list(self._memory.get(index, ()))

    def utilization(self, index: int) -> list[float | None]:
        return list(self._utilization.get(index, ()))
