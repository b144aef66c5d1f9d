"""The fleet at a glance (F on the GPU screen): every host's GPUs and deployments, each
host read at once in a worker, drawn when they are in."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from vtui.core.fleet import FleetRow, fleet_lines

if TYPE_CHECKING:
    from vtui.backends.registry import Backends


class FleetRead(Message):
    def __init__(self, rows: list[FleetRow]) -> None:
        super().__init__()
        self.rows = rows


class FleetPanel(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("r", "reread", "Read again"),
    ]

    def __init__(self, backends: Backends) -> None:
        super().__init__()
        self._backends = backends
        self.rows: list[FleetRow] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="fleet"):
            yield Label("Fleet: every host's GPUs and deployments", classes="title")
            yield Static("Reading every host's GPUs...", id="fleet-table")
            yield Label("r: read again   Esc: close   (h on the GPU screen: next host)",
                        classes="status")  # fmt: skip

    def on_mount(self) -> None:
        self.action_reread()

    def action_reread(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="fleet")
    def _read(self) -> None:
        from vtui.services.hosts import fleet

        self.post_message(FleetRead(fleet(self._backends)))

    def on_fleet_read(self, message: FleetRead) -> None:
        self.rows = message.rows
        # Host names and reasons come from outside: text, never markup.
        self.query_one("#fleet-table", Static).update(Text("\n".join(fleet_lines(message.rows))))

    def action_close(self) -> None:
        self.dismiss(None)
