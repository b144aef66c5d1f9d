"""Server: vtui's vLLM containers and the log of the one under the cursor."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from vtui.core.log_buffer import fresh_lines
from vtui.core.records import BackendUnavailable, Deployment
from vtui.ui.screens.base import VtuiScreen
from vtui.ui.widgets.log_view import LogView
from vtui.ui.widgets.notice import Notice
from vtui.ui.widgets.top_bar import deployment_text

LOG_TAIL = 2000


class ServerScreen(VtuiScreen):
    SCREEN_TITLE = "Server"
    BINDINGS = [
        Binding("r", "reload_logs", "Reload log"),
        Binding("slash", "search_log", "Search"),
        Binding("n", "next_match", "Next", show=False),
        Binding("N", "previous_match", "Previous", show=False),
        Binding("f", "toggle_follow", "Follow"),
        Binding("e", "first_error", "First error"),
        Binding("v", "level_filter", "Levels"),
        Binding("s", "save_log", "Save log"),
        Binding("escape", "leave_search", "Leave search", show=False),
    ]

    class LogsRead(Message):
        def __init__(self, container_id: str, lines: list[str], error: str | None) -> None:
            super().__init__()
            self.container_id, self.lines, self.error = container_id, lines, error

    def __init__(self) -> None:
        super().__init__()
        self._shown: str | None = None
        self._shown_name = ""
        self._tail: list[str] = []  # the engine's last answer, to tell new lines from old
        self._deployments: list[Deployment] = []

    def compose_body(self) -> ComposeResult:
        yield Notice(id="server-notice")
        table: DataTable[str] = DataTable(id="deployments", cursor_type="row")
        table.add_columns("Container", "Model", "State", "Address", "Image")
        yield table
        yield Static(id="log-title", classes="status")
        yield LogView(id="server-log")
        search = Input(
            placeholder="Search the log (Enter; n/N: next/previous)", id="log-search", compact=True
        )
        search.display = False
        yield search

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
        for widget in (self.query_one("#log-title"), self.query_one(LogView)):
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
        self._shown_name = deployment.name
        self._tail = []
        self.query_one(LogView).replace([])
        self._title()
        self.read_logs(deployment.container_id)

    def _title(self, note: str = "") -> None:
        view = self.query_one(LogView)
        state = "following" if view.following else f"paused, {view.unseen:,} new lines"
        levels = "" if view.buffer.filter == "all" else f" \u00b7 {view.buffer.filter} and above"
        self.query_one("#log-title", Static).update(
            f"Log of {self._shown_name} \u00b7 {state}{levels}"
            + (f" \u00b7 {note}" if note else "")
        )

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
        view = self.query_one(LogView)
        if message.error:
            self._title(f"cannot read the log: {message.error}")
            return
        # The engine gives the last LOG_TAIL lines each time; only the new ones are added.
        fresh = fresh_lines(self._tail, message.lines)
        if fresh is None:
            view.replace(message.lines)
        else:
            view.append(fresh)
        self._tail = message.lines
        self._title()

    def action_search_log(self) -> None:
        box = self.query_one("#log-search", Input)
        box.display = True
        box.focus()

    def action_leave_search(self) -> None:
        self.query_one("#log-search", Input).display = False
        self.query_one(LogView).focus()

    def _find(self, needle: str, backwards: bool = False) -> None:
        found = self.query_one(LogView).search(needle, backwards)
        self._title("no match" if found is None else f"line {found + 1:,}")

    @on(Input.Submitted, "#log-search")
    def _search(self, event: Input.Submitted) -> None:
        self._find(event.value)
        self.action_leave_search()

    def action_next_match(self) -> None:
        self._find(self.query_one(LogView).needle)

    def action_previous_match(self) -> None:
        self._find(self.query_one(LogView).needle, backwards=True)

    def action_toggle_follow(self) -> None:
        view = self.query_one(LogView)
        view.follow(not view.following)
        self._title()

    def action_first_error(self) -> None:
        found = self.query_one(LogView).first_error()
        self._title("no error in the log" if found is None else f"first error: line {found + 1:,}")

    def action_level_filter(self) -> None:
        self.query_one(LogView).next_filter()
        self._title()

    def action_save_log(self) -> None:
        import time

        from vtui.backends.profile_store import state_dir

        view = self.query_one(LogView)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = state_dir() / "logs" / f"{self._shown_name or 'log'}-{stamp}.log"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(view.buffer.text(), encoding="utf-8")
        except OSError as exc:
            self.notify(f"Cannot save the log: {exc}", severity="error", title="Log")
            return
        self.notify(f"{view.buffer.held:,} lines saved to {path}", title="Log")
