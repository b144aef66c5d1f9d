"""Launch: what will be started, on which GPUs, reachable where."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from vtui.core import units
from vtui.core.records import BackendUnavailable, GpuSnapshot
from vtui.core.vllm_release import CONTAINER_PORT, DEFAULT_IMAGE
from vtui.ui.screens.base import VtuiScreen
from vtui.ui.widgets.notice import Notice

DEFAULT_HOST_PORT = 8000


class LaunchScreen(VtuiScreen):
    SCREEN_TITLE = "Launch"

    class GpusRead(Message):
        def __init__(self, snapshot: GpuSnapshot | None, error: str | None) -> None:
            super().__init__()
            self.snapshot, self.error = snapshot, error

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="launch-body"):
            yield Static(id="launch-plan", classes="panel")
            yield Notice(id="launch-notice")
            yield Static(id="launch-gpus", classes="panel")
            yield Static(
                "The launch form (vLLM's own arguments, checked before launch) and the "
                "compose preview are not built yet; this screen shows what a launch would use.",
                classes="status",
            )

    def on_mount(self) -> None:
        self.query_one(Notice).hide()
        self.watch(self.vtui, "selected_model", self._show_plan, init=True)
        self.read_gpus()

    def _show_plan(self, model: str | None) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_row("Model", model or Text("none picked yet: pick one on Models (1)", "dim"))
        table.add_row("Image", DEFAULT_IMAGE)
        table.add_row(
            "Listens on",
            f"127.0.0.1:{DEFAULT_HOST_PORT} \u2192 container "
            f":{CONTAINER_PORT} (this machine only, until you choose otherwise)",
        )
        table.add_row("API key", "generated for each launch profile, passed by environment")
        self.query_one("#launch-plan", Static).update(table)

    @work(thread=True, exclusive=True, group="launch-gpus")
    def read_gpus(self) -> None:
        try:
            self.post_message(self.GpusRead(self.vtui.backends.gpu.snapshot(), None))
        except BackendUnavailable as exc:
            self.post_message(self.GpusRead(None, exc.reason))

    def on_launch_screen_gpus_read(self, message: GpusRead) -> None:
        panel = self.query_one("#launch-gpus", Static)
        if message.error or message.snapshot is None:
            self.query_one(Notice).show(f"No GPU found: {message.error}", error=True)
            panel.display = False
            return
        table = Table(
            title="GPUs a launch can use", title_justify="left", expand=True, box=box.SIMPLE_HEAD
        )
        for column in ("GPU", "Name", "Memory free", "Memory total"):
            table.add_column(column)
        for gpu in message.snapshot.gpus:
            free = (
                gpu.memory_total_mib - gpu.memory_used_mib
                if gpu.memory_total_mib is not None and gpu.memory_used_mib is not None
                else None
            )
            table.add_row(
                str(gpu.index),
                gpu.name,
                units.mib_as_gib(free),
                units.mib_as_gib(gpu.memory_total_mib),
            )
        panel.update(table)
