"""GPU: every card's memory, load, heat and power, and the processes on it."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Static

from vtui.core import units
from vtui.core.bars import bar
from vtui.core.records import BackendUnavailable, GpuSnapshot
from vtui.ui.screens.base import VtuiScreen
from vtui.ui.widgets.notice import Notice

BAR_WIDTH = 16


class GpuScreen(VtuiScreen):
    SCREEN_TITLE = "GPU"

    class Read(Message):
        def __init__(self, snapshot: GpuSnapshot | None, error: str | None) -> None:
            super().__init__()
            self.snapshot, self.error = snapshot, error

    def compose_body(self) -> ComposeResult:
        yield Static(id="gpu-status", classes="status")
        yield Notice(id="gpu-notice")
        gpus: DataTable[str] = DataTable(id="gpus", cursor_type="row")
        gpus.add_columns("GPU", "Name", "Memory", "Used / total", "Util", "Temp", "Power")
        yield gpus
        yield Static("Processes on the GPUs", classes="status")
        procs: DataTable[str] = DataTable(id="gpu-processes", cursor_type="row")
        procs.add_columns("GPU", "PID", "Process", "Memory")
        yield procs

    def on_mount(self) -> None:
        self.query_one(Notice).hide()
        self.read()
        if self.vtui.live:
            self.set_interval(1.0, self.read)

    @work(thread=True, exclusive=True, group="gpu-read")
    def read(self) -> None:
        try:
            self.post_message(self.Read(self.vtui.backends.gpu.snapshot(), None))
        except BackendUnavailable as exc:
            self.post_message(self.Read(None, exc.reason))

    def on_gpu_screen_read(self, message: Read) -> None:
        status = self.query_one("#gpu-status", Static)
        notice = self.query_one(Notice)
        if message.error or message.snapshot is None:
            notice.show(f"GPU figures are unavailable: {message.error}", error=True)
            status.update("")
            return
        notice.hide()
        snap = message.snapshot
        status.update(
            f"{len(snap.gpus)} GPU(s) \u00b7 driver {units.or_na(snap.driver_version)}"
            f" \u00b7 CUDA {units.or_na(snap.cuda_version)} \u00b7 "
            f"{self.vtui.backends.gpu.label}"
        )
        gpus = self.query_one("#gpus", DataTable)
        procs = self.query_one("#gpu-processes", DataTable)
        gpus.clear()
        procs.clear()
        for g in snap.gpus:
            fraction = (
                g.memory_used_mib / g.memory_total_mib
                if g.memory_used_mib is not None and g.memory_total_mib
                else None
            )
            power = (
                f"{g.power_w:.0f} / {g.power_limit_w:.0f} W"
                if g.power_w is not None and g.power_limit_w is not None
                else units.or_na(g.power_w, "{:.0f} W")
            )
            gpus.add_row(
                str(g.index),
                g.name,
                bar(fraction, BAR_WIDTH),
                f"{units.mib_as_gib(g.memory_used_mib)} / {units.mib_as_gib(g.memory_total_mib)}",
                units.percent(g.utilization_pct),
                units.or_na(g.temperature_c, "{} \u00b0C"),
                power,
            )
            for p in g.processes:
                procs.add_row(str(g.index), str(p.pid), p.name, units.mib_as_gib(p.memory_used_mib))
