"""The Models screen's downloads: one line each, with a bar, bytes, rate, ETA and file.

The row fits the width it is given: the bar shrinks first, then the least telling parts of
the progress go (the file name, then the rate), and a note too long for the line (why a
download failed) continues on the lines below rather than being cut.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from rich.console import RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from vtui.core.bars import bar
from vtui.core.downloads import Progress

BAR_WIDTH = 24
BAR_MIN = 8
STATE_WIDTH = 12
SEPARATOR = " \u00b7 "
STATE_STYLE = {"failed": "bold red", "done": "green", "stopped": "yellow"}


@dataclass
class DownloadRow:
    repo_id: str
    state: str  # queued, downloading, stopped, done, failed
    progress: Progress | None = None
    note: str = ""
    path: str = ""  # where a done download lies
    host: str = "local"  # the Docker host whose HF cache it went into


# What a narrow row gives up first: which file is coming, then the rate; the ETA stays.
GIVEN_UP = ("file", "rate", "eta")


def _detail_parts(row: DownloadRow) -> dict[str, str]:
    if row.note:
        return {"note": row.note}
    return row.progress.parts() if row.progress else {}


def _one_row(row: DownloadRow, width: int | None) -> Text:
    fraction = 1.0 if row.state == "done" else row.progress.fraction if row.progress else 0.0
    head = len(row.repo_id) + STATE_WIDTH + 4  # the two gaps around the bar
    parts = _detail_parts(row)
    room = None if width is None else width - head
    bar_width = BAR_WIDTH
    overflow: str | None = None
    if room is not None:
        for name in GIVEN_UP:
            if len(SEPARATOR.join(parts.values())) + BAR_MIN <= room:
                break
            parts.pop(name, None)
        detail = SEPARATOR.join(parts.values())
        bar_width = max(BAR_MIN, min(BAR_WIDTH, room - len(detail)))
        if detail and len(detail) + bar_width > room:
            overflow, parts = detail, {}
    text = Text()
    text.append(f"{row.state:<{STATE_WIDTH}}", style=STATE_STYLE.get(row.state, ""))
    text.append(f"{row.repo_id}  ")
    text.append(bar(fraction, bar_width), style="cyan")
    if parts:
        text.append("  " + SEPARATOR.join(parts.values()))
    if overflow and width is not None:
        indent = " " * STATE_WIDTH
        for line in textwrap.wrap(overflow, max(width - STATE_WIDTH, 20)):
            text.append(f"\n{indent}{line}")
    return text


def render_downloads(rows: list[DownloadRow], width: int | None = None) -> Text:
    """The rows as lines within width (None: each row whole on one line)."""
    return Text("\n").join(_one_row(row, width) for row in rows)


class DownloadsPanel(Widget):
    """Hidden until the first download; rows stay so a finished one can be read."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: dict[str, DownloadRow] = {}
        self.display = False

    def set_row(self, row: DownloadRow) -> None:
        self.rows[row.repo_id] = row
        self.display = True
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        return render_downloads(list(self.rows.values()), self.content_size.width or None)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(render_downloads(list(self.rows.values()), width).plain.splitlines()) or 1
