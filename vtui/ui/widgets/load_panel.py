"""The Server screen's load test: the dialog that asks for its settings, and the panel that
shows its progress and then its result."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, ProgressBar, Static

from vtui.core.load_runs import LoadProgress, LoadReport, LoadSettings
from vtui.ui.widgets.quiet_input import QuietInput

FIELDS: tuple[tuple[str, str, Literal["integer", "number"]], ...] = (
    ("concurrency", "Requests at once", "integer"),
    ("duration", "Seconds", "number"),
    ("prompt_tokens", "Prompt tokens (about)", "integer"),
    ("max_tokens", "Tokens per reply", "integer"),
)


class LoadTestDialog(ModalScreen[LoadSettings | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, model: str, settings: LoadSettings | None = None) -> None:
        super().__init__()
        self.model = model
        self.settings = settings or LoadSettings()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="load-dialog"):
            yield Label(Text.assemble(("Load test ", "bold"), self.model))
            yield Label(
                "Streaming chat requests, all in flight at once. The serving figures "
                "above show the server at work meanwhile.",
                classes="status",
            )
            with Grid(id="load-fields"):
                for name, label, kind in FIELDS:
                    yield Label(label)
                    value = getattr(self.settings, name)
                    yield QuietInput(f"{value:g}", type=kind, id=f"load-{name}", compact=True)
            yield Label("", id="load-problem")
            yield Label("Enter: start \u00b7 Esc: cancel", classes="status")

    def on_mount(self) -> None:
        self.query_one("#load-problem").display = False

    @on(Input.Submitted)
    def _start(self) -> None:
        values: dict[str, float] = {}
        for name, label, _kind in FIELDS:
            text = self.query_one(f"#load-{name}", Input).value.strip()
            try:
                values[name] = float(text)
            except ValueError:
                self._problem(f"{label}: give a number, not {text!r}")
                return
        settings = LoadSettings(
            concurrency=int(values["concurrency"]),
            duration=values["duration"],
            prompt_tokens=int(values["prompt_tokens"]),
            max_tokens=int(values["max_tokens"]),
            ignore_eos=self.settings.ignore_eos,
        )
        problems = settings.problems()
        if problems:
            name, what = problems[0]
            label = next(label for field, label, _ in FIELDS if field == name)
            self._problem(f"{label}: {what}")
            self.query_one(f"#load-{name}", Input).focus()
            return
        self.dismiss(settings)

    def _problem(self, text: str) -> None:
        problem = self.query_one("#load-problem", Label)
        problem.update(Text(text, style="bold red"))
        problem.display = True

    def action_cancel(self) -> None:
        self.dismiss(None)


class LoadTestPanel(Vertical):
    """Hidden until a load test starts; then its progress, then its result."""

    def compose(self) -> ComposeResult:
        yield Static(id="load-title")
        yield ProgressBar(id="load-bar", show_eta=False, show_percentage=False)
        yield Static(id="load-body")

    def on_mount(self) -> None:
        self.display = False

    def started(self, model: str, settings: LoadSettings) -> None:
        self.display = True
        self.query_one("#load-title", Static).update(
            Text.assemble(
                ("Load test  ", "bold"),
                f"{settings.concurrency} at once for {settings.duration:g} s against {model}",
                ("  \u00b7  b: stop", "dim"),
            )
        )
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=100, progress=0)
        self.query_one("#load-body", Static).update(Text("starting\u2026", style="dim"))

    def progressed(self, progress: LoadProgress) -> None:
        self.query_one(ProgressBar).update(progress=100 * progress.fraction)
        self.query_one("#load-body", Static).update(Text(progress.line(), style="dim"))

    def finished(
        self,
        report: LoadReport | None,
        saved: str | None,
        problem: str | None,
        stopped: bool = False,
    ) -> None:
        """`stopped`: the user ended it early with b; what ran until then is the result."""
        self.query_one(ProgressBar).display = False
        title = Text("Load test  ", style="bold")
        if problem is not None:
            title.append("failed", style="red")
        elif stopped:
            title.append("stopped early", style="yellow")
        else:
            title.append("done", style="green")
        title.append("  \u00b7  b: run again", style="dim")
        self.query_one("#load-title", Static).update(title)
        body = Text()
        if report is not None:
            body.append("\n".join(report.lines()[1:]))
        if problem:
            body.append(("\n" if body else "") + problem, style="red")
        if saved:
            body.append(f"\nsaved {saved} (compare two: vtui bench --compare A B)", style="dim")
        self.query_one("#load-body", Static).update(body)
