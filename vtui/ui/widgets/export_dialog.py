"""Ctrl+E on the Launch screen: the profile as each export target, previewed as it would be
written (validated first, in a worker), and written with w."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from vtui.backends.registry import Backends
from vtui.core.exports import TARGETS
from vtui.core.launch_spec import LaunchSpec
from vtui.core.model_facts import ModelFacts


class ExportDialog(ModalScreen[None]):
    BINDINGS = [
        Binding("left", "target(-1)", "Target"),
        Binding("right", "target(1)", "Target", show=False),
        Binding("w", "write", "Write"),
        Binding("escape", "close", "Close"),
    ]

    class Rendered(Message):
        def __init__(self, target: str, export: object | None, error: str | None) -> None:
            super().__init__()
            self.target, self.export, self.error = target, export, error

    def __init__(self, backends: Backends, spec: LaunchSpec, target: str = "k8s") -> None:
        super().__init__()
        self.backends, self.spec, self.target = backends, spec, target
        self.export: object | None = None
        self.model: ModelFacts | bool | None = None  # False: the model's facts are unknown

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="export-dialog"):
            yield Label(id="export-targets")
            yield Label(id="export-checked", classes="status")
            with VerticalScroll(id="export-preview"):
                yield Static(id="export-text")
            yield Label("\u2190/\u2192 target \u00b7 w write \u00b7 Esc close", classes="status")

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        line = Text(f"Export {self.spec.name}: ")
        for target in TARGETS:
            line.append(f" {target} ", style="reverse bold" if target == self.target else "")
        self.query_one("#export-targets", Label).update(line)
        self.query_one("#export-checked", Label).update("Validating\u2026")
        self.export = None
        self.render_export(self.target)

    @work(thread=True, exclusive=True, group="export-render")
    def render_export(self, target: str) -> None:
        from vtui.core.exports import ExportProblem
        from vtui.services.exporting import model_facts_for, render

        try:
            if self.model is None:  # read once: the Hub may be slow
                self.model = model_facts_for(self.backends, self.spec) or False
            model = self.model if isinstance(self.model, ModelFacts) else None
            self.post_message(self.Rendered(target, render(self.spec, target, model=model), None))
        except ExportProblem as exc:
            self.post_message(self.Rendered(target, None, str(exc)))

    def on_export_dialog_rendered(self, message: Rendered) -> None:
        from vtui.services.exporting import Export

        if message.target != self.target:
            return  # an answer for a target already left
        checked = self.query_one("#export-checked", Label)
        text = self.query_one("#export-text", Static)
        if not isinstance(message.export, Export):
            checked.update(Text(f"Cannot export: {message.error}", style="bold red"))
            text.update("")
            return
        self.export = message.export
        checked.update(Text(f"Validated against {message.export.validated_for}"))
        text.update(Text(message.export.text))  # the profile's values: text, never markup

    def action_target(self, step: int) -> None:
        self.target = TARGETS[(TARGETS.index(self.target) + step) % len(TARGETS)]
        self._show()

    def action_write(self) -> None:
        from vtui.services.exporting import Export

        if not isinstance(self.export, Export):
            self.notify("Nothing valid to write for this target.", severity="warning")
            return
        self.write_export(self.export, self.target)

    @work(thread=True, group="export-write")
    def write_export(self, export: object, target: str) -> None:
        from vtui.core.exports import secret_command
        from vtui.services.exporting import Export, default_file, write_export

        assert isinstance(export, Export)
        try:
            path = write_export(self.backends, export, default_file(self.spec, target))
        except FileExistsError as exc:
            self.app.call_from_thread(
                self.notify, f"{exc.filename} exists; vtui does not overwrite it.", severity="error"
            )
            return
        except OSError as exc:
            self.app.call_from_thread(
                self.notify, f"Cannot write: {exc.strerror or exc}", severity="error"
            )
            return
        first = ""
        if export.secret:
            key = self.backends.profiles().key_path(self.spec.name)
            first = f" First: {secret_command(export.secret, str(key))}"
        self.app.call_from_thread(self.notify, f"Wrote {path}.{first}", title="Export")

    def action_close(self) -> None:
        self.dismiss(None)
