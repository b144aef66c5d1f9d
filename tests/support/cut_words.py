"""Finding words the screen cuts: every visible widget's drawn text against its full text.

A word drawn in a widget that is not a whole word of that widget's text was cut by the
edge (or by an ellipsis); a table cell wider than its column is cut. Widgets that scroll
sideways by design (the compose preview, the log) are left out by name, with the reason.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Input

from tests.support.screens import screen_lines

# Scroll sideways by design: what is past the edge is a key press away, not lost.
SCROLL_SIDEWAYS = {"compose-preview", "server-log"}


def _plain(value: object) -> str | None:
    if isinstance(value, (Content, Text)):
        return value.plain
    if isinstance(value, str):
        return value
    if isinstance(value, Table):
        return " ".join(_plain(cell) or "" for column in value.columns for cell in column._cells)
    return None


def full_text(widget: Widget) -> str | None:
    """What the widget would show with room enough; None for what draws no text."""
    if isinstance(widget, Input):
        return widget.value or widget.placeholder
    return _plain(widget.render())


def _table_cuts(table: DataTable[Any]) -> list[str]:
    cuts = []
    room = table.scrollable_content_region.width + int(table.scroll_x)
    left = 0
    for column_key, column in table.columns.items():
        width = column.get_render_width(table) - 2 * table.cell_padding
        start, left = left, left + column.get_render_width(table)
        if start < room < left:
            cuts.append(f"column {column.label.plain!r} is cut at the right edge")
        for row_key in table.rows:
            cell = _plain(table.get_cell(row_key, column_key))
            if cell is not None and len(cell) > width:
                cuts.append(f"column {column.label.plain!r} is {width} wide for {cell!r}")
    return cuts


def cut_words(app: Any) -> list[str]:
    """Each cut found on the screen now, naming the widget, the word and its line."""
    lines = screen_lines(app)
    cuts: list[str] = []
    for widget, (_region, clip) in app.screen._compositor.visible_widgets.items():
        name = f"{type(widget).__name__}#{widget.id}"
        if widget.id in SCROLL_SIDEWAYS:
            continue
        if isinstance(widget, DataTable):
            cuts += [f"{name}: {cut}" for cut in _table_cuts(widget)]
            continue
        if widget.children:
            continue
        text = full_text(widget)
        if text is None:
            continue
        words = set(text.split())
        area = widget.content_region.intersection(clip)
        for y in range(area.y, min(area.bottom, len(lines))):
            row = lines[y][area.x : area.right]
            cuts += [
                f"{name}: {word!r} in {row.strip()!r}" for word in row.split() if word not in words
            ]
    return cuts
