"""The GPU monitor interface: one reading of every GPU at a time."""

from __future__ import annotations

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
