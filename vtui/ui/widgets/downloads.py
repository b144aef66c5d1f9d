"""The Models screen's downloads: one line each, with a bar, bytes, rate, ETA and file."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from vtui.core.bars import bar
from vtui.core.downloads import Progress

BAR_WIDTH = 24


@dataclass
class DownloadRow:
    repo_id: str
    state: str  # queued, downloading, stopped, done, failed
    progress: Progress | None = None
    note: str = ""


def render_downloads(rows: list[DownloadRow]) -> Text:
    text = Text()  # one line per download; vtui.tcss cuts it at the edge, never wraps it
    for row in rows:
        if text:
            text.append("\n")
        fraction = 1.0 if row.state == "done" else row.progress.fraction if row.progress else 0.0
        style = {"failed": "bold red", "done": "green", "stopped": "yellow"}.get(row.state, "")
        text.append(f"{row.state:<12}", style=style)
        text.append(f"{row.repo_id}  ")
        text.append(bar(fraction, BAR_WIDTH), style="cyan")
        detail = row.note or (row.progress.line() if row.progress else "")
        text.append(f"  {detail}")
    return text


class DownloadsPanel(Static):
    """Hidden until the first download; rows stay so a finished one can be read."""

    def on_mount(self) -> None:
        self.rows: dict[str, DownloadRow] = {}
        self.display = False

    def set_row(self, row: DownloadRow) -> None:
        self.rows[row.repo_id] = row
        self.display = True
        self.update(render_downloads(list(self.rows.values())))
