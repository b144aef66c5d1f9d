"""GPU: every card's memory split, figures, last minutes of load, and the processes on it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from vtui.core import units
from vtui.core.records import GpuProcess, GpuSnapshot
from vtui.ui.screens.base import VtuiScreen
from vtui.ui.widgets.gpu_panels import Chosen, GpuPanels
from vtui.ui.widgets.notice import Notice
from vtui.ui.widgets.plain_table import PlainTable


def container_cell(proc: GpuProcess, chosen: str | None, names: dict[str, str]) -> str:
    if proc.container_id is None:
        return "-"
    # The deployments list may have come after the reading named its containers.
    name = proc.container_name or names.get(proc.container_id) or proc.container_id[:12]
    return f"\u25cf {name}" if proc.container_id == chosen else name


class GpuScreen(VtuiScreen):
    SCREEN_TITLE = "GPU"
    MAIN_WIDGET = "#gpu-processes"
    GPU_STRIP = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "next_host", "Next host"),
        Binding("F", "fleet", "Fleet"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from vtui.services.hosts import host_names

        if action in ("next_host", "fleet") and len(host_names(self.vtui.backends)) < 2:
            return False  # one host: nothing to switch to, no fleet to sum up
        return super().check_action(action, parameters)

    def action_next_host(self) -> None:
        from vtui.services.hosts import next_host

        self.vtui.show_gpus_of(next_host(self.vtui.backends, self.vtui.gpu_host))
        self._show()

    def action_fleet(self) -> None:
        from vtui.ui.widgets.fleet_panel import FleetPanel

        self.app.push_screen(FleetPanel(self.vtui.backends))

    def compose_body(self) -> ComposeResult:
        yield Static(id="gpu-status", classes="status")
        yield Notice(id="gpu-notice")
        yield GpuPanels()
        procs: PlainTable[str] = PlainTable(id="gpu-processes", cursor_type="row")
        procs.add_columns("GPU", "PID", "Process", "Container", "GPU memory")
        yield procs

    def on_mount(self) -> None:
        self._process_cells: list[tuple[str, ...]] = []
        self._status = ""
        self.query_one(Notice).hide()
        self.watch(self.app, "gpus_seen", self._show, init=True)
        self.watch(self.app, "chosen_container", self._show, init=False)

    def data_drawn(self) -> bool:
        return self.vtui.gpu_snapshot is not None or bool(self.vtui.gpu_error)

    def _set_status(self, text: str) -> None:
        if text != self._status:  # an update lays the screen out again
            self._status = text
            self.query_one("#gpu-status", Static).update(text)

    def _whose(self) -> str:
        """Where the figures come from, and the host when it is not this machine."""
        app = self.vtui
        if app.gpu_host == "local":
            return app.backends.gpu.label if app.gpu_snapshot is None else app.gpu_source
        return (
            f"host {app.gpu_host}: {app.gpu_source}" if app.gpu_snapshot else f"host {app.gpu_host}"
        )

    def _chosen(self) -> Chosen:
        active = self.vtui.active_deployment
        return Chosen(active.container_id, active.name) if active else Chosen(None, None)

    def _show(self, _changed: object = None) -> None:
        app = self.vtui
        notice = self.query_one(Notice)
        panels = self.query_one(GpuPanels)
        from vtui.ui.app import REMOTE_GPU_SECONDS

        remote = app.gpu_host != "local"
        interval = max(app.gpu_interval, REMOTE_GPU_SECONDS) if remote else app.gpu_interval
        every = f"every {interval:g} s" if app.live else "one reading"
        if app.gpu_error:
            again = f"vtui tries again {every}; " if app.live else ""
            notice.show(
                f"GPU figures are unavailable: {app.gpu_error}.\n"
                f"{again}everything else works without them.",
                error=True,
            )
            self._set_status(f"{self._whose()} \u00b7 no reading")
            panels.show(None, self._chosen())
            self.query_one("#gpu-processes", DataTable).display = False
            self._process_cells = []
            return
        snap = app.gpu_snapshot
        if snap is None:
            self._set_status(f"{self._whose()} \u00b7 reading\u2026")
            return
        if notice.display:
            notice.hide()
        self.query_one("#gpu-processes", DataTable).display = True
        gpus = units.plural(len(snap.gpus), "GPU")
        self._set_status(
            f"{gpus} \u00b7 driver {units.or_na(snap.driver_version)}"
            f" \u00b7 CUDA {units.or_na(snap.cuda_version)} \u00b7 {self._whose()}"
            f" \u00b7 {every}"
        )
        chosen = self._chosen()
        panels.show(snap, chosen)
        self._processes(snap, chosen.container_id)

    def _processes(self, snap: GpuSnapshot, chosen: str | None) -> None:
        table = self.query_one("#gpu-processes", DataTable)
        names = {d.container_id: d.name for d in self.vtui.deployments}
        rows = [(str(g.index), p) for g in snap.gpus for p in g.processes]
        rows += [
            (f"{g.index}/GI{m.gpu_instance}", p)
            for g in snap.gpus
            for m in g.mig
            for p in m.processes
        ]
        cells: list[tuple[str, ...]] = [
            (
                where,
                str(p.pid),
                p.name,
                container_cell(p, chosen, names),
                units.mib_as_gib(p.memory_used_mib),
            )
            for where, p in rows
        ] or [("", "", "no process holds GPU memory", "", "")]
        # Rebuilt only when a figure changed: vLLM's memory stays put once it has loaded.
        if cells != self._process_cells:
            self._process_cells = cells
            table.clear()
            for row in cells:
                table.add_row(*row)
