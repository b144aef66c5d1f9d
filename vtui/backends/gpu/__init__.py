"""The GPU monitor interface: one reading of every GPU at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from vtui.core.records import GpuSnapshot


class GpuMonitor(Protocol):
    label: str

    def snapshot(self) -> GpuSnapshot:
        """Every GPU's figures now; a figure the driver cannot give is None.

        Raises BackendUnavailable when there is no driver or no GPU at all.
        """
        ...

    def close(self) -> None: ...


class LazyGpus:
    """A monitor made on its first reading: NVML's library loads after the first frame."""

    def __init__(self, label: str, make: Callable[[], GpuMonitor]) -> None:
        self.label = label
        self._make = make
        self._monitor: GpuMonitor | None = None
        self._lock = threading.Lock()

    @property
    def monitor(self) -> GpuMonitor:
        with self._lock:
            if self._monitor is None:
                self._monitor = self._make()
            return self._monitor

    def snapshot(self) -> GpuSnapshot:
        return self.monitor.snapshot()

    def close(self) -> None:
        if self._monitor is not None:
            self._monitor.close()
