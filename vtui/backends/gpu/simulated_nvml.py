"""A stand-in for the `pynvml` module: the same calls, answered from figures we set.

The real backend (`NvmlGpus`) runs unchanged on it, so the demo and the tests go through
the same code a GPU box does, faults included: any call can be made to raise the NVML
error it raises on real hardware (library not found, GPU lost, not supported...).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml  # only its error classes and constants: nothing here loads libnvidia-ml

MIB = 1024 * 1024


@dataclass(frozen=True)
class SimProcess:
    pid: int
    name: str
    memory_mib: int | None


@dataclass(frozen=True)
class SimMig:
    gpu_instance: int
    name: str
    total_mib: int
    used_mib: int
    processes: tuple[SimProcess, ...] = ()


@dataclass(frozen=True)
class SimGpu:
    """One GPU's figures at one reading, as NVML would give them."""

    name: str = "NVIDIA H100 80GB HBM3"
    total_mib: int = 81559
    reserved_mib: int = 480
    used_mib: int = 4  # not counting the reserved memory (the v2 call's "used")
    utilization_pct: int = 0
    memory_utilization_pct: int = 0
    temperature_c: int = 31
    power_mw: int = 71_500
    power_limit_mw: int = 700_000
    sm_clock_mhz: int = 345
    memory_clock_mhz: int = 2619
    fan_pct: int | None = None  # None: NotSupported, as on an H100 SXM
    compute_capability: tuple[int, int] = (9, 0)
    processes: tuple[SimProcess, ...] = ()
    mig: tuple[SimMig, ...] | None = None  # None: MIG off
    lost: bool = False
    uuid_seed: int = 0


@dataclass(frozen=True)
class _Handle:
    index: int
    mig: int | None = None


def _error(code: int) -> pynvml.NVMLError:
    return pynvml.NVMLError(code)


@dataclass
class SimulatedNvml:
    """`read` gives every GPU's figures each time NVML would be asked (once per snapshot)."""

    read: Callable[[], Sequence[SimGpu]]
    driver_version: str = "580.95.05"
    cuda_version: int = 13000
    # Call name -> the NVML error code it raises, e.g. {"nvmlInit": NVML_ERROR_LIBRARY_NOT_FOUND}.
    faults: dict[str, int] = field(default_factory=dict)
    _gpus: Sequence[SimGpu] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # False: a driver from before NVML's v2 memory call (it answers only v1).
    memory_v2: bool = True
    initialised: bool = False
    init_calls: int = 0

    # Error classes and constants come from the real module, so `except nv.NVMLError` and
    # `nv.NVML_CLOCK_SM` mean what they mean there.
    def __getattr__(self, name: str) -> Any:
        if name.startswith(("NVML", "nvmlMemory_v")):
            return getattr(pynvml, name)
        raise AttributeError(name)

    def _call(self, name: str) -> None:
        code = self.faults.get(name)
        if code is not None:
            raise _error(code)
        if name != "nvmlInit" and not self.initialised:
            raise _error(pynvml.NVML_ERROR_UNINITIALIZED)

    def _gpu(self, handle: _Handle) -> SimGpu:
        gpu = self._gpus[handle.index]
        if gpu.lost:
            raise _error(pynvml.NVML_ERROR_GPU_IS_LOST)
        return gpu

    def _mig(self, handle: _Handle) -> SimMig:
        mig = self._gpu(handle).mig or ()
        assert handle.mig is not None
        return mig[handle.mig]

    # -- library ------------------------------------------------------------------------------

    def nvmlInit(self) -> None:
        self.init_calls += 1
        self._call("nvmlInit")
        self.initialised = True

    def nvmlShutdown(self) -> None:
        self._call("nvmlShutdown")
        self.initialised = False

    def nvmlSystemGetDriverVersion(self) -> str:
        self._call("nvmlSystemGetDriverVersion")
        return self.driver_version

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        self._call("nvmlSystemGetCudaDriverVersion_v2")
        return self.cuda_version

    def nvmlDeviceGetCount(self) -> int:
        self._call("nvmlDeviceGetCount")
        with self._lock:
            self._gpus = tuple(self.read())  # one reading per snapshot, as if sampled now
        return len(self._gpus)

    def nvmlSystemGetProcessName(self, pid: int) -> str:
        self._call("nvmlSystemGetProcessName")
        for gpu in self._gpus:
            for proc in (*gpu.processes, *(p for m in gpu.mig or () for p in m.processes)):
                if proc.pid == pid:
                    return proc.name
        raise _error(pynvml.NVML_ERROR_NOT_FOUND)

    # -- one GPU ------------------------------------------------------------------------------

    def nvmlDeviceGetHandleByIndex(self, index: int) -> _Handle:
        self._call("nvmlDeviceGetHandleByIndex")
        if not 0 <= index < len(self._gpus):
            raise _error(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        handle = _Handle(index)
        self._gpu(handle)
        return handle

    def nvmlDeviceGetName(self, handle: _Handle) -> str:
        self._call("nvmlDeviceGetName")
        if handle.mig is not None:
            return self._mig(handle).name
        return self._gpu(handle).name

    def nvmlDeviceGetUUID(self, handle: _Handle) -> str:
        self._call("nvmlDeviceGetUUID")
        gpu = self._gpu(handle)
        base = f"{gpu.uuid_seed:08x}-{handle.index:04x}-4e56-9a1d-{handle.index * 7919:012x}"
        if handle.mig is not None:
            return f"MIG-{base[:-2]}{handle.mig:02x}"
        return f"GPU-{base}"

    def nvmlDeviceGetMemoryInfo(self, handle: _Handle, version: int | None = None) -> Any:
        self._call("nvmlDeviceGetMemoryInfo")
        if handle.mig is not None:
            m = self._mig(handle)
            free = (m.total_mib - m.used_mib) * MIB
            return SimpleNamespace(total=m.total_mib * MIB, used=m.used_mib * MIB, free=free)
        gpu = self._gpu(handle)
        free = (gpu.total_mib - gpu.reserved_mib - gpu.used_mib) * MIB
        if version and not self.memory_v2:
            raise _error(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
        if version:
            return SimpleNamespace(
                version=version,
                total=gpu.total_mib * MIB,
                reserved=gpu.reserved_mib * MIB,
                used=gpu.used_mib * MIB,
                free=free,
            )
        # v1 counts the driver's reserved memory as used.
        return SimpleNamespace(
            total=gpu.total_mib * MIB, used=(gpu.used_mib + gpu.reserved_mib) * MIB, free=free
        )

    def nvmlDeviceGetUtilizationRates(self, handle: _Handle) -> Any:
        self._call("nvmlDeviceGetUtilizationRates")
        if handle.mig is not None:
            raise _error(pynvml.NVML_ERROR_NOT_SUPPORTED)
        gpu = self._gpu(handle)
        return SimpleNamespace(gpu=gpu.utilization_pct, memory=gpu.memory_utilization_pct)

    def nvmlDeviceGetTemperature(self, handle: _Handle, sensor: int) -> int:
        self._call("nvmlDeviceGetTemperature")
        return self._gpu(handle).temperature_c

    def nvmlDeviceGetPowerUsage(self, handle: _Handle) -> int:
        self._call("nvmlDeviceGetPowerUsage")
        return self._gpu(handle).power_mw

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: _Handle) -> int:
        self._call("nvmlDeviceGetEnforcedPowerLimit")
        return self._gpu(handle).power_limit_mw

    def nvmlDeviceGetClockInfo(self, handle: _Handle, clock: int) -> int:
        self._call("nvmlDeviceGetClockInfo")
        gpu = self._gpu(handle)
        return gpu.sm_clock_mhz if clock == pynvml.NVML_CLOCK_SM else gpu.memory_clock_mhz

    def nvmlDeviceGetFanSpeed(self, handle: _Handle) -> int:
        self._call("nvmlDeviceGetFanSpeed")
        fan = self._gpu(handle).fan_pct
        if fan is None:
            raise _error(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return fan

    def nvmlDeviceGetCudaComputeCapability(self, handle: _Handle) -> tuple[int, int]:
        self._call("nvmlDeviceGetCudaComputeCapability")
        return self._gpu(handle).compute_capability

    def nvmlDeviceGetComputeRunningProcesses(self, handle: _Handle) -> list[Any]:
        self._call("nvmlDeviceGetComputeRunningProcesses")
        holder = self._mig(handle) if handle.mig is not None else self._gpu(handle)
        procs = holder.processes
        return [
            SimpleNamespace(
                pid=p.pid, usedGpuMemory=None if p.memory_mib is None else p.memory_mib * MIB
            )
            for p in procs
        ]

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: _Handle) -> list[Any]:
        self._call("nvmlDeviceGetGraphicsRunningProcesses")
        self._gpu(handle)
        return []

    # -- MIG ----------------------------------------------------------------------------------

    def nvmlDeviceGetMigMode(self, handle: _Handle) -> list[int]:
        self._call("nvmlDeviceGetMigMode")
        on = int(self._gpu(handle).mig is not None)
        return [on, on]

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: _Handle) -> int:
        self._call("nvmlDeviceGetMaxMigDeviceCount")
        return 7 if self._gpu(handle).mig is not None else 0

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: _Handle, index: int) -> _Handle:
        self._call("nvmlDeviceGetMigDeviceHandleByIndex")
        if index >= len(self._gpu(handle).mig or ()):
            raise _error(pynvml.NVML_ERROR_NOT_FOUND)
        return _Handle(handle.index, index)

    def nvmlDeviceGetGpuInstanceId(self, handle: _Handle) -> int:
        self._call("nvmlDeviceGetGpuInstanceId")
        return self._mig(handle).gpu_instance
