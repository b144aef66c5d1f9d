"""The fleet at a glance: one row per host, its GPUs' memory and load summed up, and its
deployments, or why it could not be read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vtui.core import units
from vtui.core.records import GpuSnapshot


@dataclass(frozen=True)
class FleetRow:
    host: str
    deployments: int
    gpus: int | None = None
    used_mib: int | None = None
    total_mib: int | None = None
    utilization_pct: int | None = None  # the mean over the GPUs that report it
    why: str | None = None  # no GPU figures, and why


def fleet_row(
    host: str, deployments: int, snapshot: GpuSnapshot | None, why: str | None
) -> FleetRow:
    if snapshot is None:
        return FleetRow(host, deployments, why=why or "no reading")
    gpus = snapshot.gpus
    used = [g.memory_used_mib for g in gpus if g.memory_used_mib is not None]
    total = [g.memory_total_mib for g in gpus if g.memory_total_mib is not None]
    util = [g.utilization_pct for g in gpus if g.utilization_pct is not None]
    return FleetRow(
        host,
        deployments,
        gpus=len(gpus),
        used_mib=sum(used) if used else None,
        total_mib=sum(total) if total else None,
        utilization_pct=round(sum(util) / len(util)) if util else None,
    )


def fleet_lines(rows: Sequence[FleetRow]) -> list[str]:
    """The rows as a table of text, a header first."""
    lines = [f"{'HOST':14} {'GPUS':>4}  {'MEMORY USED / TOTAL':26} {'UTIL':>4}  DEPLOYMENTS"]
    for row in rows:
        serving = units.plural(row.deployments, "deployment")
        if row.why is not None:  # the reason whole, on its own line: it is the news
            lines.append(f"{row.host:14} {'-':>4}  {'-':26} {'-':>4}  {serving}")
            lines.append(f"{'':14} {row.why}")
            continue
        memory = f"{units.mib_as_gib(row.used_mib)} / {units.mib_as_gib(row.total_mib)}"
        util = units.percent(row.utilization_pct)
        lines.append(f"{row.host:14} {row.gpus:>4}  {memory:26} {util:>4}  {serving}")
    return lines
