"""The GPU screen's panels: per GPU its memory split, figures and the last minutes of load.

Full panels where the terminal has the room, one line per GPU where it has not (8 GPUs at
80x24). Drawn as one Text: a widget per figure would cost more than NVML does.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from vtui.core import units
from vtui.core.bars import EMPTY, FULL, sparkline, split_cells
from vtui.core.gpu_history import GpuHistory
from vtui.core.gpu_layout import panels_fit, two_line_panels_fit
from vtui.core.gpu_owners import MemorySplit, memory_split
from vtui.core.records import GpuReading, GpuSnapshot

MINE, OTHERS, FREE = "green", "yellow", "grey42"


@dataclass(frozen=True)
class Chosen:
    """The deployment whose share of memory the panels single out."""

    container_id: str | None
    name: str | None


def short_name(name: str) -> str:
    return name.removeprefix("NVIDIA ").removeprefix("GeForce ")


def figures(gpu: GpuReading) -> str:
    parts = [f"util {gpu.utilization_pct}%" if gpu.utilization_pct is not None else "util N/A"]
    if gpu.temperature_c is not None:
        parts.append(f"{gpu.temperature_c} \u00b0C")
    if gpu.power_w is not None:
        limit = f"/{gpu.power_limit_w:.0f}" if gpu.power_limit_w is not None else ""
        parts.append(f"{gpu.power_w:.0f}{limit} W")
    if gpu.fan_pct is not None:  # absent on GPUs without a fan NVML reads (H100 SXM)
        parts.append(f"fan {gpu.fan_pct}%")
    if gpu.sm_clock_mhz is not None:
        parts.append(f"SM {gpu.sm_clock_mhz} MHz")
    if gpu.memory_clock_mhz is not None:
        parts.append(f"mem {gpu.memory_clock_mhz} MHz")
    return "  ".join(parts)


def not_mine(split: MemorySplit) -> int:
    """Memory neither the deployment's nor free: other processes' and the driver's reserve,
    so that deployment + other + free is the GPU's total."""
    return split.others + split.reserved


def split_bar(split: MemorySplit, width: int) -> Text:
    mine, others, free = split_cells(
        (split.deployment, not_mine(split), split.free), split.total, width
    )
    return Text.assemble((FULL * mine, MINE), (FULL * others, OTHERS), (EMPTY * free, FREE))


def split_legend(split: MemorySplit, chosen: Chosen) -> Text:
    def gib(mib: int) -> str:
        return f"{mib / 1024:.1f}"

    # "used" is NVML's used, as the strip and `vtui gpus` show it: the driver's reserve
    # is named apart, so deployment + other + driver + free is the total.
    text = Text()
    if chosen.name and split.deployment:
        text.append(f"{chosen.name} {gib(split.deployment)}", style=MINE)
        if split.others >= 51:  # shown once it reads as 0.1 GiB or more
            text.append(" \u00b7 ")
            text.append(f"other {gib(split.others)}", style=OTHERS)
    else:
        text.append(f"used {gib(split.others)}", style=OTHERS)
    if split.reserved:
        text.append(f" \u00b7 driver {gib(split.reserved)}", style=OTHERS)
    text.append(" \u00b7 ")
    text.append(f"free {gib(split.free)}", style="bold")
    text.append(f" of {gib(split.total)} GiB")
    return text


def _problem_line(gpu: GpuReading) -> Text:
    return Text.assemble(
        (f" GPU {gpu.index} ", "bold"), ("lost: ", "bold red"), (gpu.problem or "", "red")
    )


def full_panel(
    gpu: GpuReading, history: GpuHistory, chosen: Chosen, width: int, sparklines: bool = True
) -> list[Text]:
    """Figures, the memory bar with its legend, and (with `sparklines`) the last minutes."""
    if gpu.problem:
        return [_problem_line(gpu), Text()]
    head = Text.assemble((f" GPU {gpu.index} ", "bold"), (gpu.name, "bold cyan"))
    head.append("  " + figures(gpu), style="")
    lines = [head]
    split = memory_split(gpu, chosen.container_id)
    if split is None:
        lines.append(Text("   memory N/A", style="dim"))
    else:
        legend = split_legend(split, chosen)
        # The bar gives way to the legend: the figures matter more than the cells.
        bar_width = max(10, min(48, width // 2 - 4, width - 5 - legend.cell_len))
        lines.append(Text.assemble("   ", split_bar(split, bar_width), " ", legend))
    if not sparklines:
        lines.extend(_mig_lines(gpu))
        return lines
    spark = max(8, (width - 22) // 2)
    lines.append(
        Text.assemble(
            ("   memory ", "dim"),
            (sparkline(history.memory(gpu.index), spark), "cyan"),
            ("  util ", "dim"),
            (sparkline(history.utilization(gpu.index), spark), "magenta"),
        )
    )
    lines.extend(_mig_lines(gpu))
    lines.append(Text())
    return lines


def _mig_lines(gpu: GpuReading) -> list[Text]:
    lines = []
    for mig in gpu.mig:
        used = "N/A" if mig.memory_used_mib is None else f"{mig.memory_used_mib / 1024:.1f}"
        total = "N/A" if mig.memory_total_mib is None else f"{mig.memory_total_mib / 1024:.1f}"
        lines.append(
            Text(
                f"   MIG {mig.name} (GI {units.or_na(mig.gpu_instance)})"
                f"  {used}/{total} GiB  {units.plural(len(mig.processes), 'process')}",
                style="dim",
            )
        )
    return lines


def compact_line(gpu: GpuReading, history: GpuHistory, chosen: Chosen, width: int) -> Text:
    if gpu.problem:
        return _problem_line(gpu)
    line = Text.assemble((f" {gpu.index} ", "bold"), (f"{short_name(gpu.name)[:14]:<14} ", "cyan"))
    split = memory_split(gpu, chosen.container_id)
    if split is None:
        line.append("memory N/A".ljust(22), style="dim")
    else:
        used = split.deployment + split.others  # as NVML and nvidia-smi count "used"
        # Used memory only, as the strip draws it: an idle GPU's meter is empty (the
        # driver's reserve is not a process's memory), and the same rounding as the strip.
        filled = min(10, round(10 * used / split.total)) if split.total else 0
        line.append(FULL * filled, style=MINE if split.deployment else OTHERS)
        line.append(EMPTY * (10 - filled), style=FREE)
        line.append(f" {used / 1024:>4.1f}/{split.total / 1024:.1f} GiB")
    util = "N/A" if gpu.utilization_pct is None else f"{gpu.utilization_pct:>3}%"
    line.append(f" {util} ", style="bold")
    temp = f" {gpu.temperature_c}\u00b0C" if gpu.temperature_c is not None else ""
    room = max(0, width - line.cell_len - len(temp) - 1)
    line.append(sparkline(history.utilization(gpu.index), room), style="magenta")
    line.append(temp)
    return line


def panels_text(
    snapshot: GpuSnapshot, history: GpuHistory, chosen: Chosen, width: int, height: int
) -> Text:
    process_rows = sum(len(g.processes) for g in snapshot.gpus)
    if panels_fit(snapshot.gpus, height, process_rows):
        lines = [line for g in snapshot.gpus for line in full_panel(g, history, chosen, width)]
    elif two_line_panels_fit(snapshot.gpus, height, process_rows):
        lines = [
            line
            for g in snapshot.gpus
            for line in full_panel(g, history, chosen, width, sparklines=False)
        ]
        lines.append(Text())
    else:
        lines = [compact_line(g, history, chosen, width) for g in snapshot.gpus]
        lines.append(Text())
    for line in lines:
        line.no_wrap = True
        line.overflow = "ellipsis"
    return Text("\n").join(lines)


class GpuPanels(Widget):
    def __init__(self) -> None:
        super().__init__(id="gpu-panels")
        self.snapshot: GpuSnapshot | None = None
        self.chosen = Chosen(None, None)
        self._shape: tuple[object, ...] = ()

    def show(self, snapshot: GpuSnapshot | None, chosen: Chosen) -> None:
        self.snapshot, self.chosen = snapshot, chosen
        # A new layout only when the panels' height may change: a full layout of the screen
        # each second would cost more than reading NVML.
        shape = (
            ()
            if snapshot is None
            else tuple((len(g.mig), bool(g.problem), len(g.processes)) for g in snapshot.gpus)
        )
        self.refresh(layout=shape != self._shape)
        self._shape = shape

    def render(self) -> RenderableType:
        if self.snapshot is None:
            return Text()
        history = getattr(self.app, "gpu_history", None) or GpuHistory()
        # The panels may take what the screen has less its bars, status and process table.
        height = max(0, self.screen.size.height - 4)
        return panels_text(self.snapshot, history, self.chosen, self.size.width or 80, height)
