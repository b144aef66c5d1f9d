"""The real GPU monitor: NVML through nvidia-ml-py. Whatever NVML cannot answer shows as N/A."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from vtui.core.records import BackendUnavailable, GpuProcess, GpuReading, GpuSnapshot

T = TypeVar("T")
MIB = 1024 * 1024


def _memory(nv: Any, handle: Any) -> Any:
    version = getattr(nv, "nvmlMemory_v2", None)
    if version is not None:
        try:
            return nv.nvmlDeviceGetMemoryInfo(handle, version=version)
        except (nv.NVMLError, TypeError):
            pass
    return _maybe(lambda: nv.nvmlDeviceGetMemoryInfo(handle))


def _reserved_mib(memory: Any) -> int | None:
    reserved = getattr(memory, "reserved", None)
    return reserved // MIB if isinstance(reserved, int) else None


def _maybe(read: Callable[[], T]) -> T | None:
    """One NVML query; None when this GPU or driver does not support it (nvitop's N/A rule)."""
    import pynvml

    try:
        return read()
    except pynvml.NVMLError:
        return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class NvmlGpus:
    label = "NVML"

    def __init__(self) -> None:
        self._ready = False

    def _init(self) -> Any:
        try:
            import pynvml  # imported here: only GPU screens need it
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise BackendUnavailable("nvidia-ml-py is not installed") from exc
        if not self._ready:
            try:
                pynvml.nvmlInit()
            except pynvml.NVMLError as exc:
                raise BackendUnavailable(
                    f"NVML could not start ({_text(exc)}): no NVIDIA driver here, or this "
                    "container was started without GPU access"
                ) from exc
            self._ready = True
        return pynvml

    def snapshot(self) -> GpuSnapshot:
        nv = self._init()
        driver = _maybe(lambda: _text(nv.nvmlSystemGetDriverVersion()))
        cuda_raw = _maybe(nv.nvmlSystemGetCudaDriverVersion_v2)
        cuda = f"{cuda_raw // 1000}.{cuda_raw % 1000 // 10}" if cuda_raw else None
        count = _maybe(nv.nvmlDeviceGetCount) or 0
        return GpuSnapshot(driver, cuda, tuple(self._reading(nv, i) for i in range(count)))

    def _reading(self, nv: Any, index: int) -> GpuReading:
        handle = nv.nvmlDeviceGetHandleByIndex(index)
        # The v2 call splits off the driver's reserved memory, which v1 counts as used
        # (about 0.5 GiB on an H100); older drivers only answer v1.
        memory = _memory(nv, handle)
        util = _maybe(lambda: nv.nvmlDeviceGetUtilizationRates(handle))
        power = _maybe(lambda: nv.nvmlDeviceGetPowerUsage(handle))
        limit = _maybe(lambda: nv.nvmlDeviceGetEnforcedPowerLimit(handle))
        procs = _maybe(lambda: nv.nvmlDeviceGetComputeRunningProcesses(handle)) or []
        return GpuReading(
            index=index,
            name=_maybe(lambda: _text(nv.nvmlDeviceGetName(handle))) or "N/A",
            memory_used_mib=memory.used // MIB if memory else None,
            memory_total_mib=memory.total // MIB if memory else None,
            memory_reserved_mib=_reserved_mib(memory),
            utilization_pct=util.gpu if util else None,
            temperature_c=_maybe(
                lambda: nv.nvmlDeviceGetTemperature(handle, nv.NVML_TEMPERATURE_GPU)
            ),
            power_w=power / 1000 if power is not None else None,
            power_limit_w=limit / 1000 if limit is not None else None,
            processes=tuple(self._process(nv, p) for p in procs),
            compute_capability=_maybe(lambda: tuple(nv.nvmlDeviceGetCudaComputeCapability(handle))),
        )

    def _process(self, nv: Any, proc: Any) -> GpuProcess:
        name = _maybe(lambda: _text(nv.nvmlSystemGetProcessName(proc.pid))) or "N/A"
        used = getattr(proc, "usedGpuMemory", None)
        return GpuProcess(
            pid=proc.pid,
            name=name.rsplit("/", 1)[-1],
            memory_used_mib=used // MIB if isinstance(used, int) else None,
        )

    def close(self) -> None:
        if self._ready:
            import pynvml

            pynvml.nvmlShutdown()
            self._ready = False
