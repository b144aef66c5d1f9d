"""Server: the vLLM containers here, where the chosen one is in its start-up, why it failed
and the fix, and its log as it is written."""

from __future__ import annotations

import contextlib
import threading

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from vtui.core import units
from vtui.core.deployments import heads_first, node_note
from vtui.core.errors import BackendUnavailable, EngineError
from vtui.core.load_runs import LoadProgress, LoadReport, LoadSettings
from vtui.core.masking import masked
from vtui.core.numbers import whole_number
from vtui.core.records import Deployment
from vtui.core.startup import Phase
from vtui.services.following import DeploymentWatch, WatchUpdate
from vtui.services.serving import ServingUpdate, ServingWatch
from vtui.ui.screens.base import VtuiScreen
from vtui.ui.widgets.dialogs import AskText, Confirm
from vtui.ui.widgets.load_panel import LoadTestDialog, LoadTestPanel
from vtui.ui.widgets.log_view import LogView
from vtui.ui.widgets.notice import Notice
from vtui.ui.widgets.plain_table import PlainTable
from vtui.ui.widgets.quiet_input import QuietInput
from vtui.ui.widgets.serving_panel import ServingPanel
from vtui.ui.widgets.top_bar import STATE_STYLE, state_text

PHASE_STYLE = {
    Phase.PULLING: "bold yellow",
    Phase.STARTING: "bold yellow",
    Phase.LOADING: "bold yellow",
    Phase.PROFILING: "bold yellow",
    Phase.CAPTURING: "bold yellow",
    Phase.READY: "bold green",
    Phase.SERVING: "bold green",
    Phase.CRASHED: "bold red",
    Phase.STOPPED: "bold",
}
SERVING_PHASES = (Phase.READY, Phase.SERVING)  # the serving figures show from here on
WIDE = 110  # columns: room for the owner and image columns
MODEL_NARROW = 26
DEMO_READINGS = 31  # a minute of the demo's clients at one reading every 2 s


class ServerScreen(VtuiScreen):
    SCREEN_TITLE = "Server"
    BINDINGS = [
        Binding("x", "stop", "Stop"),
        Binding("R", "restart", "Restart"),
        Binding("D", "remove", "Remove", show=False),
        Binding("a", "apply_fix", "Apply fix"),
        Binding("b", "load_test", "Load test"),
        Binding("A", "attach", "Attach URL", show=False),
        Binding("k", "copy_key", "Copy key", show=False),
        Binding("slash", "search_log", "Search"),
        Binding("n", "next_match", "Next", show=False),
        Binding("N", "previous_match", "Previous", show=False),
        Binding("f", "toggle_follow", "Follow"),
        Binding("e", "first_error", "First error"),
        Binding("v", "level_filter", "Levels", show=False),
        Binding("s", "save_log", "Save log"),
        Binding("escape", "leave_search", "Leave search", show=False),
    ]

    class Watched(Message):
        def __init__(self, container_id: str, update: WatchUpdate) -> None:
            super().__init__()
            self.container_id, self.update = container_id, update

    class Served(Message):
        """A reading of the chosen deployment's /metrics."""

        def __init__(self, container_id: str, update: ServingUpdate) -> None:
            super().__init__()
            self.container_id, self.update = container_id, update

    class LoadProgressed(Message):
        def __init__(self, progress: LoadProgress) -> None:
            super().__init__()
            self.progress = progress

    class LoadFinished(Message):
        def __init__(
            self, report: LoadReport | None, saved: str | None, problem: str | None
        ) -> None:
            super().__init__()
            self.report, self.saved, self.problem = report, saved, problem

    class KeyRead(Message):
        """The chosen deployment's API key (None: it has none), read off the engine."""

        def __init__(self, container_id: str, key: str | None) -> None:
            super().__init__()
            self.container_id, self.key = container_id, key

    class Done(Message):
        """An action on a container finished; `error` says why it failed."""

        def __init__(self, what: str, error: str | None) -> None:
            super().__init__()
            self.what, self.error = what, error

    def __init__(self) -> None:
        super().__init__()
        self._shown: str | None = None
        self._shown_name = ""
        self._deployments: list[Deployment] = []
        self._last: WatchUpdate | None = None
        self._stopping: threading.Event | None = None
        self._watch: DeploymentWatch | None = None
        self._load_stop: threading.Event | None = None  # set while a load test runs
        self._load_settings = LoadSettings()
        self._key: str | None = None  # kept to copy, drawn only masked

    def compose_body(self) -> ComposeResult:
        yield Notice(id="server-notice")
        table: PlainTable[str | Text] = PlainTable(id="deployments", cursor_type="row")
        # Several Docker hosts: a Host column, the deployments grouped by it (local first).
        hosts = self.vtui.backends.hosts
        self.several_hosts = bool(hosts is not None and hosts.remotes)
        if self.several_hosts:
            table.add_column("Host")
        table.add_columns("Container", "Model", "State", "Address")
        # Decided once, as on Models: a narrow terminal gets the columns that fit whole.
        self.wide_table = self.app.size.width >= WIDE
        if self.wide_table:
            table.add_columns("Owner", "Image")
        yield table
        yield Static(id="server-phase", classes="status")
        yield Static(id="server-advice")
        yield ServingPanel(id="serving")
        yield LoadTestPanel(id="load-test")
        yield Static(id="log-title", classes="status")
        yield LogView(id="server-log")
        search = QuietInput(
            placeholder="Search the log (Enter; n/N: next/previous)", id="log-search", compact=True
        )
        search.display = False
        yield search

    def on_mount(self) -> None:
        self.vtui.unfinished_work.append(self.unfinished)
        self.query_one(Notice).hide()
        self.query_one("#server-advice").display = False
        self.query_one(ServingPanel).display = False
        self.watch(self.vtui, "deployments_seen", self._show_deployments, init=True)

    def on_unmount(self) -> None:
        self._stop_watch()

    # -- the table ------------------------------------------------------------------------------

    def _show_deployments(self, _seen: int) -> None:
        app = self.vtui
        notice = self.query_one(Notice)
        if app.deployments_error:
            notice.show(
                f"{app.deployments_error}\nvtui keeps asking; the other screens work meanwhile.",
                error=True,
            )
        elif app.silent_hosts:
            lines = "\n".join(f"host {line}" for line in app.silent_hosts)
            notice.show(f"{lines}\nvtui keeps asking; the other hosts are shown.", error=True)
        elif not app.deployments:
            notice.show(
                "No vLLM container on this engine yet. Pick a model on Models (1), then "
                "Launch (2), or run `vtui up PROFILE`."
            )
        else:
            notice.hide()
        # A Ray head's workers right under it, whatever their host: one deployment.
        self._deployments = heads_first(list(app.deployments))
        # No container, no log: an empty log frame would only look like a broken one.
        for selector in ("#server-phase", "#log-title", "#server-log"):
            self.query_one(selector).display = bool(self._deployments)
        if not self._deployments:
            self.query_one("#server-advice").display = False
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for d in self._deployments:
            cells: list[str | Text] = [d.engine_host] if self.several_hosts else []
            node = node_note(d)
            cells += [
                f"\u2514 {d.name}" if node else d.name,
                d.model if self.wide_table else units.shorten_front(d.model, MODEL_NARROW),
                Text(state_text(d), style=STATE_STYLE.get(d.state, "")),
                node or d.address,
            ]
            if self.wide_table:
                cells += ["vtui" if d.managed else "found", d.image]
            table.add_row(*cells, key=d.container_id)
        if self.several_hosts:
            # A host that did not answer is a row too (after the deployments, so a row's
            # index is still its deployment's); its reason is in the notice above.
            for line in app.silent_hosts:
                name = line.partition(":")[0]
                row: list[str | Text] = [
                    name,
                    "-",
                    "its reason is above",
                    Text("unreachable", "red"),
                    "-",
                ]
                row += ["-", "-"] if self.wide_table else []
                table.add_row(*row, key=f"silent:{name}")
        ids = [d.container_id for d in self._deployments]
        followed = [i for i, d in enumerate(self._deployments) if d.name == app.follow_container]
        if followed:
            cursor, app.follow_container = followed[0], None
        elif self._shown in ids:
            cursor = ids.index(self._shown)
        if self._deployments:
            table.move_cursor(row=min(cursor, len(self._deployments) - 1))
            self._select(self._deployments[table.cursor_row])

    @on(DataTable.RowHighlighted, "#deployments")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Rebuilding the table highlights its first row on the way; by the time that event
        # arrives the cursor is elsewhere, and only where the cursor is counts.
        if event.cursor_row != event.data_table.cursor_row:
            return
        if 0 <= event.cursor_row < len(self._deployments):
            self._select(self._deployments[event.cursor_row])

    def _select(self, deployment: Deployment) -> None:
        if deployment.container_id == self._shown:
            return
        self._stop_watch()
        self._shown = deployment.container_id
        self._shown_name = deployment.name
        self._last = None
        self._key = None
        self.vtui.choose_deployment(deployment.container_id)
        self.query_one(LogView).replace([])
        self.query_one("#server-advice").display = False
        self.query_one("#server-phase", Static).update("")
        self._title()
        self._stopping = threading.Event()
        self.follow(deployment.container_id, self._stopping)
        panel = self.query_one(ServingPanel)
        panel.display = False
        panel.show(None)
        if deployment.base_url:
            self.read_metrics(deployment, self._stopping)

    def _stop_watch(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
            self._stopping = None

    @property
    def selected(self) -> Deployment | None:
        return next((d for d in self._deployments if d.container_id == self._shown), None)

    # -- following ------------------------------------------------------------------------------

    @work(thread=True, group="server-watch")
    def follow(self, container_id: str, stopping: threading.Event) -> None:
        backends = self.vtui.backends
        watch = DeploymentWatch.of(backends, container_id, self.vtui.gpu_count)
        self._watch = watch
        with contextlib.suppress(EngineError, BackendUnavailable):  # the watch says why
            self.post_message(self.KeyRead(container_id, backends.engine.api_key(container_id)))

        def emit(update: WatchUpdate) -> None:
            if not stopping.is_set():
                self.post_message(self.Watched(container_id, update))

        if self.vtui.live:
            watch.run(emit, stopping)
        else:
            # Screenshots and snapshot tests: one look, the same on every run.
            emit(watch.step())

    @work(thread=True, group="server-metrics")
    def read_metrics(self, deployment: Deployment, stopping: threading.Event) -> None:
        watch = ServingWatch(self.vtui.backends.endpoint_for(deployment))

        def emit(update: ServingUpdate) -> None:
            if not stopping.is_set():
                self.post_message(self.Served(deployment.container_id, update))

        if self.vtui.live:
            watch.run(emit, stopping)
        elif self.vtui.backends.demo:
            # Screenshots and snapshot tests: the demo's clients play out a minute at once.
            emit(watch.replay(DEMO_READINGS))
        else:
            emit(watch.step())

    # -- the load test ----------------------------------------------------------------------------

    def action_attach(self) -> None:
        def chosen(url: str | None) -> None:
            if url:
                self.attach(url)

        question = "Attach an OpenAI-compatible server by URL (its key from $VLLM_API_KEY)"
        self.app.push_screen(AskText(question, "http://"), chosen)

    @work(thread=True, group="server-attach")
    def attach(self, url: str) -> None:
        import os

        from vtui.services.attaching import AttachRefused, attach

        key_env = "VLLM_API_KEY" if os.environ.get("VLLM_API_KEY") else None
        try:
            done = attach(self.vtui.backends, url, key_env=key_env)
        except AttachRefused as exc:
            self.post_message(self.Done(f"attach {url}", str(exc)))
            return
        self.vtui.follow_container = done.deployment.name
        self.post_message(self.Done(f"attached {done.deployment.name}", None))

    def action_load_test(self) -> None:
        if self._load_stop is not None:
            self._load_stop.set()
            self.notify("Stopping the load test; its result follows.", title="Load test")
            return
        d = self.selected
        if d is None or not d.live or not d.base_url:
            self.notify("Nothing here is serving: launch a model first.", title="Load test")
            return

        def chosen(settings: LoadSettings | None) -> None:
            if settings is None or d is None:
                return
            self._load_settings = settings
            self._load_stop = threading.Event()
            self.query_one(LoadTestPanel).started(d.model, settings)
            self.load_test(d, settings, self._load_stop)

        self.app.push_screen(LoadTestDialog(d.model, self._load_settings), chosen)

    @work(thread=True, group="server-load")
    def load_test(
        self, deployment: Deployment, settings: LoadSettings, stop: threading.Event
    ) -> None:
        from vtui.services.load_runner import run_data, run_load_test, save_run

        backends = self.vtui.backends

        def progressed(progress: LoadProgress) -> None:
            self.post_message(self.LoadProgressed(progress))

        try:
            report = run_load_test(
                backends.endpoint_for(deployment),
                deployment.model,
                settings,
                progressed,
                stop.is_set,
            )
        except Exception as exc:  # a worker must say why, not take the screen down
            self.post_message(self.LoadFinished(None, None, f"{type(exc).__name__}: {exc}"))
            return
        try:
            saved = str(save_run(run_data(report, deployment, backends), backends))
        except OSError as exc:
            self.post_message(self.LoadFinished(report, None, f"cannot save the result: {exc}"))
            return
        self.post_message(self.LoadFinished(report, saved, report.why_nothing_completed()))

    def on_server_screen_load_progressed(self, message: LoadProgressed) -> None:
        if self._load_stop is not None:
            self.query_one(LoadTestPanel).progressed(message.progress)

    def on_server_screen_load_finished(self, message: LoadFinished) -> None:
        stopped = self._load_stop is not None and self._load_stop.is_set()
        self._load_stop = None
        self.query_one(LoadTestPanel).finished(
            message.report, message.saved, message.problem, stopped=stopped
        )

    def unfinished(self) -> str | None:
        if self._load_stop is not None and not self._load_stop.is_set():
            return "a load test is running (its result would be lost)"
        return None

    def on_server_screen_key_read(self, message: KeyRead) -> None:
        if message.container_id == self._shown:
            self._key = message.key
            if self._last is not None:
                self._show_phase(self._last)

    def action_copy_key(self) -> None:
        if not self._key:
            self.notify("This deployment has no API key to copy.", title="API key")
            return
        # OSC 52: the terminal, even one at the far end of SSH, puts it on its clipboard.
        self.app.copy_to_clipboard(self._key)
        self.notify(
            f"Copied {self._shown_name}'s API key ({masked(self._key)}) to the clipboard.",
            title="API key",
        )

    def on_server_screen_served(self, message: Served) -> None:
        if message.container_id == self._shown:
            self.query_one(ServingPanel).show(message.update)

    def on_server_screen_watched(self, message: Watched) -> None:
        if message.container_id != self._shown:
            return
        update = message.update
        if update.lines:
            self.query_one(LogView).append(list(update.lines))
        self._last = update
        self.query_one(ServingPanel).display = update.phase in SERVING_PHASES and not update.gone
        self._show_phase(update)
        self._show_advice(update)
        self._title()
        if update.gone or (update.deployment and update.deployment.state != self._listed_state):
            self.vtui.read_deployments()

    @property
    def _listed_state(self) -> object:
        selected = self.selected
        return selected.state if selected else None

    def _show_phase(self, update: WatchUpdate) -> None:
        line = Text()
        if update.engine_error:
            line.append("engine unavailable: ", style="bold red")
            line.append(f"{update.engine_error}; retrying")
        elif update.gone:
            line.append("removed", style="bold")
        else:
            line.append("\u25cf ", style=PHASE_STYLE.get(update.phase, ""))
            line.append(update.progress, style=PHASE_STYLE.get(update.phase, ""))
            d = update.deployment
            if update.models is not None and d is not None and d.base_url and d.live:
                there = f" of host {d.engine_host}" if d.engine_host != "local" else ""
                line.append(f"\n{d.base_url}/v1{there} serves {', '.join(update.models)}")
                if self._key:
                    line.append(f"  \u00b7  key {masked(self._key)} (k copies it)", style="dim")
                else:
                    line.append("  \u00b7  no API key: /v1 answers anyone", style="yellow")
                line.append("  \u00b7  chat with it: 5", style="dim")
        if update.figures:
            line.append("\n" + "  \u00b7  ".join(update.figures), style="dim")
        self.query_one("#server-phase", Static).update(line)

    def _show_advice(self, update: WatchUpdate) -> None:
        advice = self.query_one("#server-advice", Static)
        why = update.explanation
        if why is None:
            advice.display = False
            return
        text = Text.assemble(
            ("Why it failed  ", "bold"), why.cause, "\n", ("Fix  ", "bold"), why.fix
        )
        d = update.deployment
        if why.setting is not None and d is not None and d.profile:
            flag, value = why.setting
            shown = f"{value:,}" if whole_number(value) else value
            text.append("\n")
            text.append(" a ", style="bold reverse")
            text.append(f" set {flag} {shown} in profile {d.profile} and launch again")
        text.append(f"\nFrom the log: {why.line}", style="dim")
        advice.update(text)
        advice.display = True

    def _title(self, note: str = "") -> None:
        view = self.query_one(LogView)
        state = "following" if view.following else f"paused, {view.unseen:,} new lines"
        levels = "" if view.buffer.filter == "all" else f" \u00b7 {view.buffer.filter} and above"
        self.query_one("#log-title", Static).update(
            f"Log of {self._shown_name} \u00b7 {state}{levels}"
            + (f" \u00b7 {note}" if note else "")
        )

    # -- lifecycle ------------------------------------------------------------------------------

    def _confirm(self, question: str, then: str) -> None:
        deployment = self.selected
        if deployment is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.act(then, deployment)

        self.app.push_screen(Confirm(question.format(name=deployment.name)), answered)

    def action_stop(self) -> None:
        d = self.selected
        if d is not None and not d.live:
            self.notify(f"{d.name} is not running.", title="Stop")
            return
        self._confirm("Stop {name}? vLLM gets SIGTERM, then SIGKILL after 30 s.", "stop")

    def action_restart(self) -> None:
        self._confirm("Restart {name}? It stops serving until it is ready again.", "restart")

    def action_remove(self) -> None:
        d = self.selected
        if d is None:
            return
        if d.live:
            self.notify(f"Stop {d.name} first (x).", title="Remove", severity="warning")
            return
        if not d.managed:
            self.notify(f"{d.name} was not started by vtui; vtui leaves it.", title="Remove")
            return
        self._confirm("Remove {name}? Its log goes with it.", "remove")

    @work(thread=True, group="server-act")
    def act(self, what: str, deployment: Deployment) -> None:
        from vtui.services import deployments

        backends, watch = self.vtui.backends, self._watch
        try:
            if what == "stop":
                if watch is not None and watch.container_id == deployment.container_id:
                    watch.stop_asked()
                deployments.stop(backends, deployment)
            elif what == "restart":
                deployments.restart(backends, deployment)
            else:
                deployments.remove(backends, deployment)
            self.post_message(self.Done(f"{what} {deployment.name}", None))
        except (EngineError, BackendUnavailable) as exc:
            self.post_message(self.Done(f"{what} {deployment.name}", str(exc)))

    def on_server_screen_done(self, message: Done) -> None:
        if message.error:
            self.notify(f"Cannot {message.what}: {message.error}", severity="error", timeout=10)
        else:
            self.notify(f"{message.what[0].upper()}{message.what[1:]}: done.", title="Server")
        self.vtui.read_deployments()

    def action_apply_fix(self) -> None:
        update, d = self._last, self.selected
        why = update.explanation if update else None
        if why is None or why.setting is None:
            self.notify("No fix to apply: nothing failed, or the fix is not a setting.")
            return
        if d is None or not d.profile:
            self.notify("This container was not started from a vtui profile.", severity="warning")
            return
        self.relaunch(d.profile, *why.setting)

    @work(thread=True, exclusive=True, group="server-relaunch")
    def relaunch(self, profile: str, flag: str, value: object) -> None:
        from vtui.services.launching import LaunchFailed, relaunch_with

        try:
            deployment = relaunch_with(self.vtui.backends, profile, flag, value)
        except LaunchFailed as exc:
            self.post_message(self.Done(f"launch {profile} again", str(exc)))
            return
        self.vtui.follow_container = deployment.name
        self._shown = None  # the container is new: follow it from its first line
        self.post_message(self.Done(f"set {flag} {value} in {profile}; launched", None))

    # -- the log --------------------------------------------------------------------------------

    def action_search_log(self) -> None:
        box = self.query_one("#log-search", Input)
        box.display = True
        box.focus()

    def action_leave_search(self) -> None:
        self.query_one("#log-search", Input).display = False
        self.query_one(LogView).focus()

    def data_drawn(self) -> bool:
        """The chosen container's log has come (or there is none to show)."""
        if self.query_one(Notice).display or self._shown is None:
            return self.vtui.deployments_seen > 0
        return self.query_one(LogView).buffer.held > 0

    def leave_input(self) -> None:
        self.action_leave_search()

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
        from vtui.services.saving import save_log

        view = self.query_one(LogView)
        try:
            path = save_log(self.vtui.backends, self._shown_name or "log", view.buffer.text())
        except OSError as exc:
            self.notify(f"Cannot save the log: {exc}", severity="error", title="Log")
            return
        self.notify(f"{view.buffer.held:,} lines saved to {path}", title="Log")
