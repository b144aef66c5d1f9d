"""The Doctor panel: `vtui doctor`'s checks over whatever screen is open, run in a worker
and drawn when they are in (Ctrl+G, the palette, or the hint under an "unavailable")."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from vtui.core.doctor import DoctorReport, Status, summary_line

if TYPE_CHECKING:
    from vtui.backends.registry import Backends

_STYLES = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}
_MARKS = {Status.PASS: "\u2713 pass", Status.WARN: "! warn", Status.FAIL: "\u2717 fail"}


class DoctorDone(Message):
    def __init__(self, report: DoctorReport) -> None:
        super().__init__()
        self.report = report


def report_text(report: DoctorReport) -> Text:
    text = Text()
    for finding in report.findings:
        text.append(f"{_MARKS[finding.status]}  ", style=_STYLES[finding.status])
        text.append(finding.title, style="bold")
        text.append(f"\n        {finding.reason}\n")
        if finding.fix and finding.status is not Status.PASS:
            text.append("        fix: ", style="bold")
            text.append(f"{finding.fix}\n")
    return text


class DoctorPanel(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("r", "rerun", "Check again"),
    ]

    def __init__(self, backends: Backends) -> None:
        super().__init__()
        self._backends = backends

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="doctor"):
            yield Label("vtui doctor: what serving a model needs on this machine", classes="title")
            with VerticalScroll(id="doctor-scroll"):
                yield Static("Checking Docker, the GPUs, the disk, the Hub and the port...",
                             id="doctor-report")  # fmt: skip
            yield Label("", id="doctor-summary", classes="status")
            yield Label("r: check again   Esc: close   (vtui doctor --json in a shell)",
                        classes="status")  # fmt: skip

    def on_mount(self) -> None:
        self.action_rerun()

    def action_rerun(self) -> None:
        self.query_one("#doctor-summary", Label).update("checking...")
        self._examine()

    @work(thread=True, exclusive=True, group="doctor")
    def _examine(self) -> None:
        from vtui.services.doctoring import examine

        self.post_message(DoctorDone(examine(self._backends)))

    def on_doctor_done(self, message: DoctorDone) -> None:
        self.query_one("#doctor-report", Static).update(report_text(message.report))
        self.query_one("#doctor-summary", Label).update(summary_line(message.report))

    def action_close(self) -> None:
        self.dismiss(None)
