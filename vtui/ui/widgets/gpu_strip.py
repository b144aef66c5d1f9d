"""The GPU strip under every screen's top bar: each GPU's memory meter and utilization."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from vtui.core.bars import EMPTY, FULL
from vtui.core.gpu_layout import strip_cell, strip_layout
from vtui.core.records import GpuSnapshot


def strip_text(snapshot: GpuSnapshot | None, error: str | None, width: int, height: int) -> Text:
    if error:
        # One line whatever the reason's length: the strip sits on every screen.
        return Text.assemble(
            (" GPU ", "bold"),
            ("N/A ", "bold red"),
            (error, "red"),
            no_wrap=True,
            overflow="ellipsis",
        )
    if snapshot is None:
        return Text(" GPU  reading NVML\u2026", style="dim")
    if not snapshot.gpus:
        return Text.assemble((" GPU ", "bold"), ("none: NVML lists no GPU on this machine", "dim"))
    layout = strip_layout(len(snapshot.gpus), width, height)
    lines = []
    for row in range(layout.rows):
        line = Text()
        for gpu in snapshot.gpus[row * layout.columns : (row + 1) * layout.columns]:
            cell = strip_cell(gpu, layout.cell_width)
            piece = Text.assemble(" ", (cell.label, "bold"), " ")
            if cell.problem is not None:
                piece.append(cell.problem, style="bold red")
            else:
                piece.append(FULL * cell.filled, style="cyan")
                piece.append(EMPTY * (cell.meter - cell.filled), style="grey42")
                piece.append(f" {cell.memory} ")
                piece.append(cell.utilization, style="bold" if cell.utilization != "  0%" else "")
            piece.truncate(layout.cell_width, pad=True)
            line.append_text(piece)
        lines.append(line)
    return Text("\n").join(lines)


class GpuStrip(Widget):
    def __init__(self) -> None:
        super().__init__(id="gpu-strip")
        self._shape: tuple[object, ...] = ()

    def on_mount(self) -> None:
        self.watch(self.app, "gpus_seen", self._read, init=False)

    def _read(self, _seen: int) -> None:
        # The strip sits on every screen: lay the screen out again only when its number of
        # lines may change (GPUs come or go, an error comes or clears); resizes do their own.
        snapshot = getattr(self.app, "gpu_snapshot", None)
        error = getattr(self.app, "gpu_error", None)
        shape = (error is None, None if snapshot is None else len(snapshot.gpus))
        self.refresh(layout=shape != self._shape)
        self._shape = shape

    def render(self) -> RenderableType:
        app = self.app
        width = self.size.width or app.size.width
        return strip_text(
            getattr(app, "gpu_snapshot", None),
            getattr(app, "gpu_error", None),
            width,
            app.size.height,
        )
