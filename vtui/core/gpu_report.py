"""A GPU snapshot for scripts (`vtui gpus --json`) and as a table for people (`vtui gpus`)."""

from __future__ import annotations

from typing import Any

from vtui.core import units
from vtui.core.records import GpuProcess, GpuReading, GpuSnapshot, MigInstance

MIB = 1024 * 1024


def _bytes(mib: int | None) -> int | None:
    return None if mib is None else mib * MIB


def _process(proc: GpuProcess) -> dict[str, Any]:
    return {
        "pid": proc.pid,
        "name": proc.name,
        "memory_used_bytes": _bytes(proc.memory_used_mib),
        "container_id": proc.container_id,
        "container_name": proc.container_name,
    }


def _mig(mig: MigInstance) -> dict[str, Any]:
    return {
        "gpu_instance": mig.gpu_instance,
        "uuid": mig.uuid,
        "name": mig.name,
        "memory_total_bytes": _bytes(mig.memory_total_mib),
        "memory_used_bytes": _bytes(mig.memory_used_mib),
        "processes": [_process(p) for p in mig.processes],
    }


def _gpu(gpu: GpuReading) -> dict[str, Any]:
    capability = gpu.compute_capability
    return {
        "index": gpu.index,
        "name": gpu.name,
        "uuid": gpu.uuid,
        # NVML's own figures in whole MiB, as nvidia-smi shows them; "used" leaves out
        # the driver's reserved memory where the driver reports it apart (NVML v2).
        "memory_total_bytes": _bytes(gpu.memory_total_mib),
        "memory_used_bytes": _bytes(gpu.memory_used_mib),
        "memory_reserved_bytes": _bytes(gpu.memory_reserved_mib),
        "memory_free_bytes": _bytes(gpu.memory_free_mib),
        "utilization_percent": gpu.utilization_pct,
        "temperature_c": gpu.temperature_c,
        "power_w": gpu.power_w,
        "power_limit_w": gpu.power_limit_w,
        "sm_clock_mhz": gpu.sm_clock_mhz,
        "memory_clock_mhz": gpu.memory_clock_mhz,
        "fan_percent": gpu.fan_pct,
        "compute_capability": f"{capability[0]}.{capability[1]}" if capability else None,
        "mig_enabled": gpu.mig_enabled,
        "mig_instances": [_mig(m) for m in gpu.mig],
        "problem": gpu.problem,
        "processes": [_process(p) for p in gpu.processes],
    }


def snapshot_json(snapshot: GpuSnapshot, source: str) -> dict[str, Any]:
    return {
        "source": source,
        "driver_version": snapshot.driver_version,
        "cuda_version": snapshot.cuda_version,
        "gpus": [_gpu(g) for g in snapshot.gpus],
    }


def snapshot_lines(snapshot: GpuSnapshot, source: str) -> list[str]:
    """One line per GPU, then one per process under it, then where the figures came from."""
    lines = [f"{'GPU':<4}{'NAME':<26}{'MEMORY USED / TOTAL':<26}{'UTIL':>5}{'TEMP':>7}  POWER"]
    for g in snapshot.gpus:
        if g.problem:
            lines.append(f"{g.index:<4}{g.name:<26}{g.problem}")
            continue
        share = (
            f" ({g.memory_used_mib / g.memory_total_mib:.0%})"
            if g.memory_used_mib is not None and g.memory_total_mib
            else ""
        )
        memory = f"{units.mib_as_gib(g.memory_used_mib)} / {units.mib_as_gib(g.memory_total_mib)}"
        power = units.or_na(g.power_w, "{:.0f}")
        if g.power_limit_w is not None:
            power += f"/{g.power_limit_w:.0f}"
        lines.append(
            f"{g.index:<4}{g.name[:25]:<26}{memory + share:<26}"
            f"{units.percent(g.utilization_pct):>5}{units.or_na(g.temperature_c, '{} C'):>7}"
            f"  {power} W"
        )
        for m in g.mig:
            lines.append(
                f"    MIG {m.name} (GI {units.or_na(m.gpu_instance)}): "
                f"{units.mib_as_gib(m.memory_used_mib)} / {units.mib_as_gib(m.memory_total_mib)}"
            )
        for p in g.all_processes:
            owner = p.container_name or (p.container_id or "")[:12]
            where = f"  container {owner}" if owner else ""
            lines.append(
                f"    pid {p.pid:<8} {p.name[:24]:<24} {units.mib_as_gib(p.memory_used_mib):>10}"
                f"{where}"
            )
    lines.append(
        f"driver {units.or_na(snapshot.driver_version)} \u00b7 CUDA "
        f"{units.or_na(snapshot.cuda_version)} \u00b7 {source}"
    )
    return lines
