"""How GPU figures fit a terminal: the strip on every screen and the GPU screen's panels.

1 to 8 GPUs must read at 80x24 as well as on a wide screen, so the sizes are decided here,
where they can be tested without drawing anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vtui.core.records import GpuReading

WIDE_CELL = 38  # room for a long meter and "71.9/79.6 GiB"
NARROW_CELL = 20  # the least that still holds index, meter, memory and utilization
GIB = 1024


@dataclass(frozen=True)
class StripLayout:
    columns: int
    rows: int
    cell_width: int


def strip_layout(gpu_count: int, width: int, height: int) -> StripLayout:
    """Side by side where they fit; narrower cells rather than more than 2 rows on a short
    terminal (4 on a tall one), so the strip never eats the screen it sits on."""
    count = max(1, gpu_count)
    max_rows = 2 if height < 40 else 4
    columns = min(count, max(1, width // WIDE_CELL))
    if math.ceil(count / columns) > max_rows:
        columns = min(count, max(1, width // NARROW_CELL))
    rows = math.ceil(count / columns)
    return StripLayout(columns, rows, max(1, width // columns))


@dataclass(frozen=True)
class StripCell:
    """One GPU in the strip: label, meter cells filled of meter width, memory and load."""

    label: str
    filled: int
    meter: int
    memory: str
    utilization: str
    problem: str | None = None


def _gib(mib: int, decimals: int) -> str:
    return f"{mib / GIB:.{decimals}f}"


def strip_cell(gpu: GpuReading, width: int) -> StripCell:
    label = f"GPU{gpu.index}" if width >= 30 else str(gpu.index)
    if gpu.problem or gpu.memory_total_mib is None or gpu.memory_used_mib is None:
        return StripCell(label, 0, 0, "", "", problem=gpu.problem or "N/A")
    total, used = gpu.memory_total_mib, gpu.memory_used_mib
    if width >= WIDE_CELL:
        memory = f"{_gib(used, 1)}/{_gib(total, 1)} GiB"
    elif width >= 28:
        memory = f"{_gib(used, 1)}/{_gib(total, 0)}G"
    else:
        memory = f"{_gib(used, 0)}/{_gib(total, 0)}G"
    utilization = "N/A" if gpu.utilization_pct is None else f"{gpu.utilization_pct:>3}%"
    # label, meter, memory and utilization with a space between each and one at the end
    meter = max(1, width - len(label) - len(memory) - len(utilization) - 4)
    filled = min(meter, round(meter * used / total)) if total else 0
    return StripCell(label, filled, meter, memory, utilization)


def panel_lines(gpu: GpuReading) -> int:
    """Lines of one GPU's full panel: header, memory split, sparklines, MIG slices, a gap."""
    return 4 + len(gpu.mig)


def two_line_panels_fit(gpus: tuple[GpuReading, ...], height: int, process_rows: int) -> bool:
    """Whether a two-line panel per GPU (figures; memory bar and legend), as nvitop draws
    8 GPUs at 120x40, leaves room for the process table."""
    table = 3 + min(process_rows, 4)
    return sum(2 + len(g.mig) for g in gpus) + 1 + table <= height


def panels_fit(gpus: tuple[GpuReading, ...], height: int, process_rows: int) -> bool:
    """Whether full panels leave room for the process table (else one line per GPU)."""
    table = 3 + min(process_rows, 4)  # title, header, a few rows, a gap
    return sum(panel_lines(g) for g in gpus) + table <= height
