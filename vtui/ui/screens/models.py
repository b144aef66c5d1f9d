"""Models: search the hub, download a model, and pick what to serve."""

from __future__ import annotations

import threading
import time
from collections import deque

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from vtui.core import units
from vtui.core.downloads import LocalModel
from vtui.core.errors import BackendUnavailable
from vtui.core.model_details import ModelDetails, detail_lines
from vtui.core.model_search import GGUF, SearchQuery
from vtui.core.records import ModelSummary
from vtui.ui.screens.base import VtuiScreen
from vtui.ui.widgets.downloads import DownloadRow, DownloadsPanel
from vtui.ui.widgets.model_filters import ModelFilters
from vtui.ui.widgets.notice import Notice
from vtui.ui.widgets.plain_table import PlainTable

FIT_WIDTH = 11  # "fits at 24k", "needs TP 4", "fits 9.4x"
MODEL_WIDTH = 40
MODEL_WIDTH_NARROW = 30
WIDE = 110  # columns
QUANT_WIDTH = 8
DETAILS_PAUSE_S = 0.2
TYPING_PAUSE_S = 0.3


def _cancelled_after(seconds: float) -> bool:
    """Waits in a thread worker; True when a newer request cancelled it meanwhile."""
    worker = get_current_worker()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.is_cancelled:
            return True
        time.sleep(0.02)
    return worker.is_cancelled


def search_row(m: ModelSummary, wide: bool) -> tuple[str, ...]:
    """A row of the Hub table; a narrow terminal gets the columns that fit whole (the
    popularity figures move to the details pane) and names shortened from the front."""
    quant = "GGUF exp" if m.quant == GGUF else (m.quant or "-")
    row = (
        m.repo_id if wide else units.shorten_front(m.repo_id, MODEL_WIDTH_NARROW),
        "\u2026",
        units.or_na(m.params_billions, "{:.1f}B"),
        units.human_bytes(m.size_bytes),
        quant[:QUANT_WIDTH],
    )
    if not wide:
        return row
    return (
        *row,
        units.count(m.downloads),
        units.count(m.likes),
        "gated" if m.gated else "-",
        m.last_modified or units.NOT_AVAILABLE,
    )


def popularity(m: ModelSummary) -> str:
    return f"{units.count(m.downloads)} downloads \u00b7 {units.count(m.likes)} likes"


LOCAL_COLUMNS = ("Model", "Size", "Revision", "Last used", "Where")


class ModelsScreen(VtuiScreen):
    SCREEN_TITLE = "Models"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("slash", "focus_search", "Search"),
        Binding("escape", "leave_search", "Leave search", show=False),
        Binding("d", "download", "Download"),
        Binding("x", "stop_download", "Stop download"),
        Binding("l", "toggle_local", "Local/Hub"),
        Binding("delete", "delete_local", "Delete"),
        Binding("h", "next_host", "Host"),
    ]

    class LocalFound(Message):
        def __init__(self, models: list[LocalModel], error: str | None) -> None:
            super().__init__()
            self.models, self.error = models, error

    class DownloadChanged(Message):
        def __init__(self, row: DownloadRow) -> None:
            super().__init__()
            self.row = row

    class Found(Message):
        def __init__(
            self, query: SearchQuery, models: list[ModelSummary], error: str | None
        ) -> None:
            super().__init__()
            self.query, self.models, self.error = query, models, error

    class Waiting(Message):
        """The search is waiting on the Hub, and why (a rate limit, say)."""

        def __init__(self, query: SearchQuery, why: str) -> None:
            super().__init__()
            self.query, self.why = query, why

    class FitFound(Message):
        def __init__(self, repo_id: str, verdict: str, summary: str) -> None:
            super().__init__()
            self.repo_id, self.verdict, self.summary = repo_id, verdict, summary

    class DetailsFound(Message):
        def __init__(self, repo_id: str, details: ModelDetails | None, error: str | None) -> None:
            super().__init__()
            self.repo_id, self.details, self.error = repo_id, details, error

    def compose_body(self) -> ComposeResult:
        yield ModelFilters(id="model-filters")
        yield Static(id="models-status", classes="status")
        yield Notice(id="models-notice")
        yield DownloadsPanel(id="downloads")
        table: PlainTable[str] = PlainTable(
            id="models-table", cursor_type="row", zebra_stripes=True
        )
        # Fixed widths: verdicts arrive row by row, and a column that grew with them would
        # be drawn at whatever width it had reached. The fit comes second, so that even a
        # narrow terminal shows it.
        # Decided once, as the columns are: a resize keeps the table it has.
        wide = self.wide_table = self.app.size.width >= WIDE
        table.add_column("Model", width=MODEL_WIDTH if wide else MODEL_WIDTH_NARROW)
        self.fit_column = table.add_column("Fit here", width=FIT_WIDTH)
        table.add_columns("Params", "Size", "Quant")
        if wide:
            table.add_columns("Downloads", "Likes", "Gated", "Updated")
        yield table
        # Long verdicts wrap and the pane scrolls: cutting them with an ellipsis hid the
        # reason a model does not fit.
        with VerticalScroll(id="model-details-pane"):
            yield Static(id="model-details")
        local: PlainTable[str] = PlainTable(id="local-table", cursor_type="row", zebra_stripes=True)
        local.add_columns(*LOCAL_COLUMNS)
        local.display = False
        yield local

    def unfinished(self) -> str | None:
        panels = self.query(DownloadsPanel)
        if not panels:
            return None
        panel = panels.first()
        going = [r.repo_id for r in panel.rows.values() if r.state in ("queued", "downloading")]
        if not going:
            return None
        many = "s" if len(going) > 1 else ""
        return f"{len(going)} download{many} under way ({', '.join(going[:2])}); `d` resumes later"

    def on_mount(self) -> None:
        self.vtui.unfinished_work.append(self.unfinished)
        self._waiting: deque[tuple[str, str]] = deque()  # repo, the host it goes to
        self.found_line = ""
        self._stop = threading.Event()
        # Guards _waiting and _downloading together, so a download asked for just as the
        # downloader runs out of work is never left waiting with no one to fetch it.
        self._queue_lock = threading.Lock()
        self._downloading = False
        self.local_mode = False
        self.local: dict[str, LocalModel] = {}
        self.query_one(Notice).hide()
        self.asked = SearchQuery()
        self.fit_summaries: dict[str, str] = {}
        self.details: dict[str, ModelDetails] = {}
        self.listed: dict[str, ModelSummary] = {}
        self.call_after_refresh(self.ask, self.asked)
        # The cursor starts in the search box: typing "qwen" searches, it does not quit.
        self.query_one("#model-search", Input).focus()

    def action_focus_search(self) -> None:
        self.query_one("#model-search", Input).focus()

    def action_leave_search(self) -> None:
        self.query_one("#local-table" if self.local_mode else "#models-table").focus()

    def data_drawn(self) -> bool:
        table = self.query_one("#models-table", DataTable)
        return table.row_count > 0 or self.query_one(Notice).display

    def leave_input(self) -> None:
        self.action_leave_search()

    @on(ModelFilters.Changed)
    def _query_changed(self, event: ModelFilters.Changed) -> None:
        if event.submitted or event.query != self.asked:
            self.ask(event.query, pause=TYPING_PAUSE_S if event.typed else 0.0)
        if event.submitted:
            self.query_one("#models-table", DataTable).focus()

    def ask(self, query: SearchQuery, pause: float = 0.0) -> None:
        """Search; answers to any earlier question are dropped when they come."""
        self.asked = query
        self.search(query, pause)

    @work(thread=True, exclusive=True, group="hub-search")
    def search(self, query: SearchQuery, pause: float = 0.0) -> None:
        # The next key typed within the pause cancels this search before it asks the Hub.
        if pause and _cancelled_after(pause):
            return
        from vtui.services import models

        def waiting(why: str) -> None:
            self.post_message(self.Waiting(query, why))

        try:
            found = models.search(self.vtui.backends, query, on_wait=waiting)
            self.post_message(self.Found(query, found, None))
        except BackendUnavailable as exc:
            self.post_message(self.Found(query, [], exc.reason))

    def on_models_screen_waiting(self, message: Waiting) -> None:
        if message.query == self.asked:
            self.query_one("#models-status", Static).update(f"Waiting: {message.why}\u2026")

    def on_models_screen_found(self, message: Found) -> None:
        if message.query != self.asked:
            return  # a slower answer to an earlier question
        table = self.query_one("#models-table", DataTable)
        table.clear()
        notice = self.query_one(Notice)
        status = self.query_one("#models-status", Static)
        if message.error:
            notice.show(f"Model search is unavailable: {message.error}", error=True)
            status.update("")
            return
        notice.hide()
        for m in message.models:
            table.add_row(*search_row(m, self.wide_table), key=m.repo_id)
            self.listed[m.repo_id] = m
        self.judge_fit([m.repo_id for m in message.models])
        self.found_line = f"{units.plural(len(message.models), 'model')} {message.query.describe()}"
        self._show_status()
        if not message.models:
            self.query_one("#model-details", Static).update(message.query.no_match())

    def _show_status(self) -> None:
        host = self.target_host
        on_host = "" if host == "local" else f" \u00b7 fit and downloads: {host}"
        self.query_one("#models-status", Static).update(
            f"{self.found_line} \u00b7 {self.vtui.backends.hub.label}{on_host} \u00b7 "
            "Enter picks the model for Launch"
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hub keys in the Hub list, the delete key in the local one (hidden elsewhere)."""
        if not super().check_action(action, parameters):
            return False
        local = getattr(self, "local_mode", False)
        if action == "delete_local":
            return local
        if action == "next_host":  # one host: nothing to switch to
            from vtui.services.hosts import host_names

            return not local and len(host_names(self.vtui.backends)) > 1
        if action in ("download", "focus_search"):
            return not local
        return True

    @property
    def target_host(self) -> str:
        """Where downloads go and whose GPUs the fit reads: the host in focus, which `h`
        here and on the GPU screen moves on."""
        return self.vtui.gpu_host

    def action_next_host(self) -> None:
        from vtui.services.hosts import next_host

        following = next_host(self.vtui.backends, self.target_host)
        self.vtui.show_gpus_of(following)
        self._label_fit_column()
        self.fit_summaries.clear()
        table = self.query_one("#models-table", DataTable)
        for key in table.rows:
            table.update_cell(key, self.fit_column, "\u2026")
        self.judge_fit([str(key.value) for key in table.rows])
        self._show_status()
        where = "this machine" if following == "local" else f"host {following}"
        self.notify(f"Downloads and the fit now: {where}.", title="Host")

    def _label_fit_column(self) -> None:
        host = self.target_host
        label = "Fit here" if host == "local" else f"Fit {host}"
        column = self.query_one("#models-table", DataTable).columns[self.fit_column]
        column.label = Text(label[:FIT_WIDTH])
        self.query_one("#models-table", DataTable).refresh()

    def action_toggle_local(self) -> None:
        self.local_mode = not self.local_mode
        for hub_part in ("#models-table", "#model-filters", "#model-details-pane"):
            self.query_one(hub_part).display = not self.local_mode
        self.query_one("#local-table").display = self.local_mode
        self.query_one("#local-table" if self.local_mode else "#models-table").focus()
        self.refresh_bindings()
        if self.local_mode:
            self.load_local()
        else:
            self.ask(self.query_one(ModelFilters).search_query)

    @work(thread=True, exclusive=True, group="models-local")
    def load_local(self) -> None:
        try:
            from vtui.services import models

            self.post_message(self.LocalFound(models.here(self.vtui.backends), None))
        except Exception as exc:  # a cache that cannot be read must not take the screen down
            self.post_message(self.LocalFound([], f"{type(exc).__name__}: {exc}"))

    def on_models_screen_local_found(self, message: LocalFound) -> None:
        table = self.query_one("#local-table", DataTable)
        self.local = {m.path: m for m in message.models}
        status = self.query_one("#models-status", Static)
        if message.error:
            table.clear()
            self.query_one(Notice).show(f"Local models unreadable: {message.error}", error=True)
            return
        rows = [
            (
                m.name,
                units.human_bytes(m.size_bytes),
                m.revision[:12] or "-",
                time.strftime("%Y-%m-%d %H:%M", time.gmtime(m.last_used))
                if m.last_used
                else units.NOT_AVAILABLE,
                m.where,
            )
            for m in message.models
        ]
        # Widths given, not measured: DataTable measures new rows when idle but keeps a
        # header drawn before that in its cache, so the header could stay as narrow as its
        # labels above wider rows (seen in CI snapshots, Textual 8.2.8).
        table.clear(columns=True)
        for index, label in enumerate(LOCAL_COLUMNS):
            texts = (label, *(row[index] for row in rows))
            table.add_column(label, width=max(cell_len(text) for text in texts))
        for m, row in zip(message.models, rows, strict=True):
            table.add_row(*row, key=m.path)
        total = units.human_bytes(sum(m.size_bytes for m in message.models))
        status.update(
            f"{units.plural(len(message.models), 'model')} on this machine, {total} \u00b7 "
            "Enter picks one for "
            "Launch \u00b7 Delete frees its disk \u00b7 l: back to the Hub"
        )

    def _selected_local(self) -> LocalModel | None:
        table = self.query_one("#local-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.local.get(str(key))

    def action_delete_local(self) -> None:
        model = self._selected_local()
        if model is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_local(model)

        from vtui.ui.widgets.dialogs import Confirm

        size = units.human_bytes(model.size_bytes)
        question = f"Delete {model.name} ({size}) from {model.where}?"
        self.app.push_screen(Confirm(question), answered)

    @work(thread=True, group="models-local-delete")
    def delete_local(self, model: LocalModel) -> None:
        from vtui.core.errors import DownloadError

        try:
            self.vtui.backends.hub.delete_local(model)
        except (DownloadError, OSError) as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", title="Delete")
            return
        freed = units.human_bytes(model.size_bytes)
        self.app.call_from_thread(self.notify, f"{model.name} deleted, {freed} freed.")
        self.load_local()

    @on(DataTable.RowSelected, "#local-table")
    def _picked_local(self, event: DataTable.RowSelected) -> None:
        model = self.local.get(str(event.row_key.value))
        if model is not None:
            self.vtui.selected_model = model.launch_name
            self.notify(f"{model.launch_name} picked. Press 2 for Launch.", title="Model")

    def _selected_repo(self) -> str | None:
        table = self.query_one("#models-table", DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_download(self) -> None:
        repo_id = self._selected_repo()
        if repo_id is not None:
            self.queue_download(repo_id)

    def queue_download(self, repo_id: str) -> None:
        """Downloads start in the order asked for, one at a time."""
        rows = self.query_one(DownloadsPanel).rows
        if repo_id in rows and rows[repo_id].state in ("queued", "downloading"):
            self.notify(f"{repo_id} is already {rows[repo_id].state}.", title="Download")
            return
        self.query_one(DownloadsPanel).set_row(DownloadRow(repo_id, "queued"))
        with self._queue_lock:
            self._waiting.append((repo_id, self.target_host))
            start = not self._downloading
            self._downloading = True
        if start:
            self.run_downloads()

    def action_stop_download(self) -> None:
        self._stop.set()

    @work(thread=True, group="downloads")
    def run_downloads(self) -> None:
        """One download at a time, in the order asked for; the rest wait their turn. Ends
        when none is left, so the screen is idle again."""
        from vtui.core.errors import Cancelled, DownloadError
        from vtui.services import models

        backends = self.vtui.backends
        while True:
            with self._queue_lock:
                if not self._waiting:
                    self._downloading = False
                    return
                repo_id, host = self._waiting.popleft()
            self._stop.clear()
            try:
                plan = models.plan(backends, repo_id, host=host)
                self._tell(DownloadRow(repo_id, "downloading"))
                path = models.fetch(
                    backends,
                    plan,
                    lambda p: self._tell(DownloadRow(p.repo_id, "downloading", p)),
                    self._stop,
                    host=host,
                )
                # The snapshot's path, cut at the edge of the row, told nothing: the
                # message that says it is ready has room for it.
                note = "in the HF cache: l lists it" if host == "local" else f"in {host}'s HF cache"
                done = DownloadRow(repo_id, "done", note=note, path=path, host=host)
                self._tell(done)
            except Cancelled:
                self._tell(DownloadRow(repo_id, "stopped", note="what came is kept: d resumes"))
            except DownloadError as exc:
                self._tell(DownloadRow(repo_id, "failed", note=str(exc)))

    def _tell(self, row: DownloadRow) -> None:
        self.post_message(self.DownloadChanged(row))

    def on_models_screen_download_changed(self, message: DownloadChanged) -> None:
        panel = self.query_one(DownloadsPanel)
        row = message.row
        previous = panel.rows.get(row.repo_id)
        if row.state in ("downloading", "stopped") and row.progress is None and previous:
            # Keep the bar until the first figures come, and after a stop: it shows the
            # bytes kept, which `d` resumes from.
            row.progress = previous.progress
            if row.state == "stopped" and previous.progress is not None:
                p = previous.progress
                row.note = (
                    f"{units.human_bytes(p.done_bytes)} of {units.human_bytes(p.total_bytes)} "
                    "kept: d resumes"
                )
        panel.set_row(row)
        if row.state == "done":
            self.notify(
                f"{row.repo_id} is ready in {row.path}"
                + ("" if row.host == "local" else f" on host {row.host}")
                + ". Enter picks it for Launch.",
                title="Download",
            )
            if self.local_mode:
                self.load_local()

    @on(DataTable.RowSelected, "#models-table")
    def _picked(self, event: DataTable.RowSelected) -> None:
        repo_id = str(event.row_key.value)
        self.vtui.selected_model = repo_id
        self.notify(f"{repo_id} picked. Press 2 for Launch.", title="Model")

    @work(thread=True, exclusive=True, group="models-fit")
    def judge_fit(self, repo_ids: list[str]) -> None:
        """Each model's verdict on this machine's GPUs at vLLM's defaults, row by row."""
        # Imported here: the Models screen opens at start-up, the fit check need not.
        from vtui.services.fitting import learned, verdict_at_defaults
        from vtui.services.host_checks import attributed_readings

        # As the Launch screen reads them: what holds a GPU is named by its container.
        readings = attributed_readings(self.vtui.backends, self.vtui.deployments, self.target_host)
        past = learned(self.vtui.backends).records  # once for the batch, not once a row
        for repo_id in repo_ids:
            if get_current_worker().is_cancelled:
                return
            said = verdict_at_defaults(self.vtui.backends, repo_id, readings, past)
            self.post_message(self.FitFound(repo_id, said.short, said.summary))

    def on_models_screen_fit_found(self, message: FitFound) -> None:
        self.fit_summaries[message.repo_id] = message.summary
        table = self.query_one("#models-table", DataTable)
        if message.repo_id in table.rows:
            table.update_cell(message.repo_id, self.fit_column, message.verdict[:FIT_WIDTH])
        if message.repo_id == self._selected_repo():
            self._show_details(message.repo_id)

    @on(DataTable.RowHighlighted, "#models-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        repo_id = str(event.row_key.value)
        if repo_id in self.details:
            self._show_details(repo_id)
            return
        self.query_one("#model-details", Static).update(f"{repo_id}\nReading its details\u2026")
        self.load_details(repo_id)

    @work(thread=True, exclusive=True, group="models-details")
    def load_details(self, repo_id: str) -> None:
        # Scrolling through the list asks only about the row the cursor stops on.
        if _cancelled_after(DETAILS_PAUSE_S):
            return
        try:
            self.post_message(
                self.DetailsFound(repo_id, self.vtui.backends.hub.details(repo_id), None)
            )
        except BackendUnavailable as exc:
            self.post_message(self.DetailsFound(repo_id, None, exc.reason))

    def on_models_screen_details_found(self, message: DetailsFound) -> None:
        if message.details is not None:
            self.details[message.repo_id] = message.details
        if message.repo_id != self._selected_repo():
            return
        if message.details is None:
            # The Hub's words: text, never markup.
            self.query_one("#model-details", Static).update(
                Text(f"{message.repo_id}\nDetails unavailable: {message.error}")
            )
            return
        self._show_details(message.repo_id)

    def _show_details(self, repo_id: str) -> None:
        details = self.details.get(repo_id)
        if details is not None:
            listed = self.listed.get(repo_id)
            hub_line = None if listed is None or self.wide_table else popularity(listed)
            lines = detail_lines(details, self.fit_summaries.get(repo_id), hub_line)
            self.query_one("#model-details", Static).update(Text("\n".join(lines)))
