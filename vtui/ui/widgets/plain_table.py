"""A DataTable whose text cells are text, never markup.

Textual's DataTable reads a str cell as Rich markup: a container labelled `[/bold]` (or a
model directory, a process name) raised MarkupError and took the whole app down, and
`[link=...]` would draw a link the user did not write. Every str cell is made a Text."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets._data_table import CellType, ColumnKey, RowKey


def _plain(cell: Any) -> Any:
    return Text(cell, no_wrap=True, end="") if isinstance(cell, str) else cell


class PlainTable(DataTable[CellType]):
    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: Any = None,
    ) -> RowKey:
        return super().add_row(
            *(_plain(c) for c in cells), height=height, key=key, label=_plain(label)
        )

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: CellType,
        *,
        update_width: bool = False,
    ) -> None:
        super().update_cell(row_key, column_key, _plain(value), update_width=update_width)
