"""nvidia-smi's CSV, read as the GPU records NVML gives: how vtui reads the GPUs of a host
it reaches only through its Docker engine (a helper container runs nvidia-smi there).

The fields are asked for by name (one list, below, used to build the command and to read
the answer), with `--format=csv,noheader,nounits`. The text comes from another machine's
container: every line is bounded, every figure checked for its range, and a field the GPU
does not report ("[N/A]", "[Not Supported]") is None, as NVML's own gaps are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from vtui.core.records import GpuProcess, GpuReading, GpuSnapshot
from vtui.core.terminal_text import visible

GPU_FIELDS = (
    "index", "uuid", "name", "memory.used", "memory.total", "memory.reserved",
    "memory.free", "utilization.gpu", "temperature.gpu", "power.draw", "power.limit",
    "clocks.sm", "clocks.mem", "fan.speed", "compute_cap", "mig.mode.current",
)  # fmt: skip
APP_FIELDS = ("pid", "gpu_uuid", "used_memory", "process_name")
MAX_LINES = 64  # GPUs, or processes: far more than one host has
MAX_LINE = 1024
MAX_MIB = 16 * 1024 * 1024  # 16 TiB: no GPU holds more
SEPARATOR = "--- vtui: compute apps ---"


def smi_command() -> str:
    """The shell line a helper container runs: both queries, the separator between."""
    gpu = ",".join(GPU_FIELDS)
    apps = ",".join(APP_FIELDS)
    return (
        f"nvidia-smi --query-gpu={gpu} --format=csv,noheader,nounits && echo '{SEPARATOR}' && "
        f"nvidia-smi --query-compute-apps={apps} --format=csv,noheader,nounits"
    )


class SmiProblem(ValueError):
    """nvidia-smi's answer cannot be read; says where."""


def _missing(value: str) -> bool:
    return value.startswith("[") or value in ("", "N/A")


def _int(value: str, low: int, high: int) -> int | None:
    if _missing(value):
        return None
    try:
        number = round(float(value))
    except ValueError:
        return None
    return number if low <= number <= high else None


def _float(value: str, low: float, high: float) -> float | None:
    if _missing(value):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if low <= number <= high else None


def _text(value: str, limit: int = 96) -> str:
    return visible(value[:limit])


def _rows(text: str, width: int, free_last: bool = False) -> list[list[str]]:
    """The lines as cells; with free_last, the last field may hold commas (a process's
    path may)."""
    rows = []
    for line in text.splitlines()[:MAX_LINES]:
        if not line.strip():
            continue
        cut = line[:MAX_LINE].split(",", width - 1 if free_last else -1)
        cells = [cell.strip() for cell in cut]
        if len(cells) != width:
            raise SmiProblem(f"a line of {len(cells)} fields where {width} were asked for")
        rows.append(cells)
    return rows


def _capability(value: str) -> tuple[int, int] | None:
    major, dot, minor = value.partition(".")
    if not dot or not major.isdigit() or not minor.isdigit() or len(major + minor) > 4:
        return None
    return int(major), int(minor)


def _gpu(cells: Sequence[str]) -> GpuReading:
    f = dict(zip(GPU_FIELDS, cells, strict=True))
    index = _int(f["index"], 0, 255)
    if index is None:
        raise SmiProblem(f"{_text(f['index'])!r} is not a GPU index")
    mig = f["mig.mode.current"]
    return GpuReading(
        index=index,
        name=_text(f["name"]) or "GPU",
        memory_used_mib=_int(f["memory.used"], 0, MAX_MIB),
        memory_total_mib=_int(f["memory.total"], 1, MAX_MIB),
        utilization_pct=_int(f["utilization.gpu"], 0, 100),
        temperature_c=_int(f["temperature.gpu"], -50, 200),
        power_w=_float(f["power.draw"], 0, 10_000),
        power_limit_w=_float(f["power.limit"], 0, 10_000),
        compute_capability=_capability(f["compute_cap"]),
        memory_reserved_mib=_int(f["memory.reserved"], 0, MAX_MIB),
        uuid=_text(f["uuid"], 64) if f["uuid"].startswith(("GPU-", "MIG-")) else None,
        memory_free_mib=_int(f["memory.free"], 0, MAX_MIB),
        sm_clock_mhz=_int(f["clocks.sm"], 0, 10_000),
        memory_clock_mhz=_int(f["clocks.mem"], 0, 50_000),
        fan_pct=_int(f["fan.speed"], 0, 100),
        mig_enabled={"Enabled": True, "Disabled": False}.get(mig),
    )


def parse_smi(text: str, driver_version: str | None = None) -> GpuSnapshot:
    """Both queries' output, as smi_command() prints it. Raises SmiProblem."""
    gpu_text, found, apps_text = text.partition(SEPARATOR)
    if not found:
        raise SmiProblem("nvidia-smi printed no compute-apps part (did it fail?)")
    gpus = [_gpu(cells) for cells in _rows(gpu_text, len(GPU_FIELDS))]
    if not gpus:
        raise SmiProblem("nvidia-smi listed no GPU")
    by_uuid: dict[str, list[GpuProcess]] = {}
    for pid, uuid, used, name in _rows(apps_text, len(APP_FIELDS), free_last=True):
        number = _int(pid, 1, 2**22)
        if number is None:
            continue  # a process whose PID cannot be read is no one's to attribute
        process = GpuProcess(number, _text(name), _int(used, 0, MAX_MIB))
        by_uuid.setdefault(uuid, []).append(process)
    readings = tuple(replace(g, processes=tuple(by_uuid.get(g.uuid or "", ()))) for g in gpus)
    return GpuSnapshot(driver_version=driver_version, cuda_version=None, gpus=readings)
