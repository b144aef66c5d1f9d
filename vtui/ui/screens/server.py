"""Server: vtui's vLLM containers and the log of the one under the cursor."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Log, Static

from vtui.core.records import BackendUnavailable, Deployment
from vtui.ui.screens.base import VtuiScreen
from vtui.ui.widgets.notice import Notice
from vtui.ui.widgets.top_bar import deployment_text

LOG_TAIL = 2000


class ServerScreen(VtuiScreen):
    SCREEN_TITLE = "Server"
    BINDINGS = [Binding("r", "reload_logs", "Reload log")]

    class LogsRead(Message):
        def __init__(self, container_id: str, lines: list[str], error: str | None) -> None:
            super().__init__()
            self.container_id, self.lines, self.error = container_id, lines, error

    def __init__(self) -> None:
        super().__init__()
        self._shown: str | None = None
        self._deployments: list[Deployment] = []

    def compose_body(self) -> ComposeResult:
        yield Notice(id="server-notice")
        table: DataTable[str] = DataTable(id="deployments", cursor_type="row")
        table.add_columns("Container", "Model", "State", "Address", "Image")
        yield table
        yield Static(id="log-title", classes="status")
        yield Log(id="server-log", max_lines=LOG_TAIL, highlight=False)

    def on_mount(self) -> None:
        self.query_one(Notice).hide()
        self.watch(self.vtui, "deployments_seen", self._show_deployments, init=True)
        if self.vtui.live:
            self.set_interval(1.0, self._follow_log)

    def _show_deployments(self, _seen: int) -> None:
        app = self.vtui
        notice = self.query_one(Notice)
        if app.deployments_error:
            notice.show(
                f"{app.backends.engine.label} unavailable: {app.deployments_error}", error=True
            )
        elif not app.deployments:
            notice.show(
                "No vLLM container of vtui's on this engine yet. Pick a model on Models "
                "(1), then Launch (2)."
            )
        else:
            notice.hide()
        self._deployments = list(app.deployments)
        # No container, no log: an empty log frame would only look like a broken one.
        for widget in (self.query_one("#log-title"), self.query_one(Log)):
            widget.display = bool(self._deployments)
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for d in self._deployments:
            table.add_row(
                d.name,
                d.model,
                deployment_text(d, None).plain.split("  ")[1],
                d.address,
                d.image,
                key=d.container_id,
            )
        followed = [i for i, d in enumerate(self._deployments) if d.name == app.follow_container]
        if followed:
            cursor, app.follow_container = followed[0], None
        if self._deployments:
            table.move_cursor(row=min(cursor, len(self._deployments) - 1))
            self._select(self._deployments[table.cursor_row])

    @on(DataTable.RowHighlighted, "#deployments")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self._deployments):
            self._select(self._deployments[event.cursor_row])

    def _select(self, deployment: Deployment) -> None:
        if deployment.container_id == self._shown:
            return
        self._shown = deployment.container_id
        self.query_one("#log-title", Static).update(f"Log of {deployment.name}")
        self.query_one(Log).clear()
        self.read_logs(deployment.container_id)

    def _follow_log(self) -> None:
        if self._shown:
            self.read_logs(self._shown)

    def action_reload_logs(self) -> None:
        self._follow_log()

    @work(thread=True, exclusive=True, group="server-logs")
    def read_logs(self, container_id: str) -> None:
        try:
            lines = self.vtui.backends.engine.logs(container_id, LOG_TAIL)
            self.post_message(self.LogsRead(container_id, lines, None))
        except (BackendUnavailable, KeyError, RuntimeError) as exc:
            self.post_message(self.LogsRead(container_id, [], str(exc)))

    def on_server_screen_logs_read(self, message: LogsRead) -> None:
        if message.container_id != self._shown:
            return
        log = self.query_one(Log)
        if message.error:
            log.clear()
            log.write_line(f"Cannot read the log: {message.error}")
            return
        # The engine returns the last LOG_TAIL lines; redraw only when they changed.
        if list(log.lines) != message.lines:
            log.clear()
            log.write_lines(message.lines)
