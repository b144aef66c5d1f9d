"""The real GPU monitor: NVML through nvidia-ml-py.

What one GPU cannot answer (fan speed on an H100, utilization of a MIG slice) shows as
N/A, nvitop's rule; a GPU that is lost shows why while the others go on; a driver that
cannot be reached at all raises BackendUnavailable in words, and the next snapshot tries
again from the start.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

import pynvml

from vtui.backends.gpu.nvml_problems import in_words, is_lost
from vtui.core.errors import BackendUnavailable
from vtui.core.records import GpuProcess, GpuReading, GpuSnapshot, MigInstance

T = TypeVar("T")
MIB = 1024 * 1024


class _GpuLost(Exception):
    def __init__(self, error: pynvml.NVMLError) -> None:
        super().__init__(str(error))
        self.error = error


def _must(read: Callable[[], T]) -> T:
    """One NVML query the reading cannot go without; a lost GPU raises _GpuLost."""
    try:
        return read()
    except pynvml.NVMLError as exc:
        if is_lost(exc):
            raise _GpuLost(exc) from exc
        raise


def _maybe(read: Callable[[], T]) -> T | None:
    """One NVML query; None when this GPU or driver does not support it."""
    try:
        return _must(read)
    except pynvml.NVMLError:
        return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _mib(value: Any) -> int | None:
    return value // MIB if isinstance(value, int) else None


def _memory(nv: Any, handle: Any) -> Any:
    # The v2 call splits off the driver's reserved memory, which v1 counts as used (about
    # 0.5 GiB on an H100); older drivers and MIG slices answer only v1.
    version = getattr(nv, "nvmlMemory_v2", None)
    if version is not None:
        with contextlib.suppress(TypeError):  # a nvidia-ml-py from before the v2 call
            memory = _maybe(lambda: nv.nvmlDeviceGetMemoryInfo(handle, version=version))
            if memory is not None:
                return memory
    return _maybe(lambda: nv.nvmlDeviceGetMemoryInfo(handle))


class NvmlGpus:
    def __init__(self, library: Any = None, label: str = "NVML") -> None:
        """library: the pynvml module (the default) or a stand-in with its calls."""
        self._nv = library if library is not None else pynvml
        self.label = label
        self._ready = False

    def _init(self) -> Any:
        nv = self._nv
        if not self._ready:
            try:
                nv.nvmlInit()
            except pynvml.NVMLError as exc:
                raise BackendUnavailable(in_words(exc)) from exc
            self._ready = True
        return nv

    def snapshot(self) -> GpuSnapshot:
        nv = self._init()
        try:
            count = nv.nvmlDeviceGetCount()
            gpus = tuple(self._reading(nv, i) for i in range(count))
        except pynvml.NVMLError as exc:
            self.close()  # start NVML afresh on the next snapshot: the driver may be back
            raise BackendUnavailable(in_words(exc)) from exc
        driver = _maybe(lambda: _text(nv.nvmlSystemGetDriverVersion()))
        cuda_raw = _maybe(nv.nvmlSystemGetCudaDriverVersion_v2)
        cuda = f"{cuda_raw // 1000}.{cuda_raw % 1000 // 10}" if cuda_raw else None
        return GpuSnapshot(driver, cuda, gpus)

    def _reading(self, nv: Any, index: int) -> GpuReading:
        try:
            return self._figures(nv, index)
        except _GpuLost as lost:
            return GpuReading(
                index=index,
                name="N/A",
                memory_used_mib=None,
                memory_total_mib=None,
                utilization_pct=None,
                temperature_c=None,
                power_w=None,
                power_limit_w=None,
                problem=in_words(lost.error),
            )

    def _figures(self, nv: Any, index: int) -> GpuReading:
        handle = _must(lambda: nv.nvmlDeviceGetHandleByIndex(index))
        memory = _memory(nv, handle)
        util = _maybe(lambda: nv.nvmlDeviceGetUtilizationRates(handle))
        power = _maybe(lambda: nv.nvmlDeviceGetPowerUsage(handle))
        limit = _maybe(lambda: nv.nvmlDeviceGetEnforcedPowerLimit(handle))
        mig_mode = _maybe(lambda: nv.nvmlDeviceGetMigMode(handle))
        mig_enabled = bool(mig_mode[0]) if mig_mode else None
        return GpuReading(
            index=index,
            name=_maybe(lambda: _text(nv.nvmlDeviceGetName(handle))) or "N/A",
            uuid=_maybe(lambda: _text(nv.nvmlDeviceGetUUID(handle))),
            memory_used_mib=_mib(getattr(memory, "used", None)),
            memory_total_mib=_mib(getattr(memory, "total", None)),
            memory_free_mib=_mib(getattr(memory, "free", None)),
            memory_reserved_mib=_mib(getattr(memory, "reserved", None)),
            utilization_pct=util.gpu if util else None,
            temperature_c=_maybe(
                lambda: nv.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)
            ),
            power_w=power / 1000 if power is not None else None,
            power_limit_w=limit / 1000 if limit is not None else None,
            sm_clock_mhz=_maybe(lambda: nv.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM)),
            memory_clock_mhz=_maybe(
                lambda: nv.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_MEM)
            ),
            fan_pct=_maybe(lambda: nv.nvmlDeviceGetFanSpeed(handle)),
            processes=self._processes(nv, handle),
            compute_capability=_maybe(lambda: tuple(nv.nvmlDeviceGetCudaComputeCapability(handle))),
            mig_enabled=mig_enabled,
            mig=self._mig(nv, handle) if mig_enabled else (),
        )

    def _processes(self, nv: Any, handle: Any) -> tuple[GpuProcess, ...]:
        found: dict[int, Any] = {}
        for query in (
            nv.nvmlDeviceGetComputeRunningProcesses,
            nv.nvmlDeviceGetGraphicsRunningProcesses,
        ):
            for proc in _maybe(lambda q=query: q(handle)) or ():  # type: ignore[misc]
                found.setdefault(proc.pid, proc)
        return tuple(self._process(nv, p) for p in found.values())

    def _process(self, nv: Any, proc: Any) -> GpuProcess:
        name = _maybe(lambda: _text(nv.nvmlSystemGetProcessName(proc.pid))) or "N/A"
        # A command line, maybe with arguments: its program's name is what a person knows.
        program = name.split(" ", 1)[0].rsplit("/", 1)[-1] or name
        return GpuProcess(
            pid=proc.pid, name=program, memory_used_mib=_mib(getattr(proc, "usedGpuMemory", None))
        )

    def _mig(self, nv: Any, handle: Any) -> tuple[MigInstance, ...]:
        slots = _maybe(lambda: nv.nvmlDeviceGetMaxMigDeviceCount(handle)) or 0
        instances = []
        for slot in range(slots):
            mig = _maybe(lambda s=slot: nv.nvmlDeviceGetMigDeviceHandleByIndex(handle, s))  # type: ignore[misc]
            if mig is None:  # an empty slot
                continue
            memory = _maybe(lambda m=mig: nv.nvmlDeviceGetMemoryInfo(m))  # type: ignore[misc]
            instances.append(
                MigInstance(
                    gpu_instance=_maybe(lambda m=mig: nv.nvmlDeviceGetGpuInstanceId(m)),  # type: ignore[misc]
                    uuid=_maybe(lambda m=mig: _text(nv.nvmlDeviceGetUUID(m))),  # type: ignore[misc]
                    name=_maybe(lambda m=mig: _text(nv.nvmlDeviceGetName(m))) or "MIG",  # type: ignore[misc]
                    memory_used_mib=_mib(getattr(memory, "used", None)),
                    memory_total_mib=_mib(getattr(memory, "total", None)),
                    processes=self._processes(nv, mig),
                )
            )
        return tuple(instances)

    def close(self) -> None:
        if self._ready:
            self._ready = False
            # A driver that went away has nothing left to shut down.
            with contextlib.suppress(pynvml.NVMLError):
                self._nv.nvmlShutdown()
