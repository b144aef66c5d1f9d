"""The Models screen's search row: words, author, quantization, size band and sort.

It says what changed and how: a key typed (the screen waits for a pause in typing before
asking the Hub), Enter, or a drop-down (asked at once).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Select

from vtui.core.model_search import QUANTS, SIZES, SORTS, SearchQuery
from vtui.ui.widgets.quiet_input import QuietInput


class ModelFilters(Horizontal):
    class Changed(Message):
        def __init__(self, query: SearchQuery, *, typed: bool, submitted: bool) -> None:
            super().__init__()
            self.query = query
            self.typed = typed  # more keys may follow
            self.submitted = submitted  # Enter: the user wants the results now

    def compose(self) -> ComposeResult:
        # Short enough to be read whole in the box at 80 columns ("Search models as yo").
        yield QuietInput(placeholder="Search models", id="model-search", compact=True)
        yield QuietInput(placeholder="author", id="model-author", compact=True)
        yield Select(
            [(f"quant: {q}", q) for q in QUANTS], value="any", allow_blank=False,
            id="quant-filter", compact=True,
        )  # fmt: skip
        yield Select(
            [(f"size: {s}", s) for s in SIZES], value="any", allow_blank=False,
            id="size-filter", compact=True,
        )  # fmt: skip
        yield Select(
            [(f"by {s}", s) for s in SORTS], value="downloads", allow_blank=False,
            id="sort-by", compact=True,
        )  # fmt: skip

    @property
    def search_query(self) -> SearchQuery:
        return SearchQuery(
            text=self.query_one("#model-search", Input).value,
            author=self.query_one("#model-author", Input).value,
            quant=str(self.query_one("#quant-filter", Select).value),
            size=str(self.query_one("#size-filter", Select).value),
            sort=str(self.query_one("#sort-by", Select).value),
        )

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.search_query, typed=True, submitted=False))

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Changed(self.search_query, typed=False, submitted=True))

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.search_query, typed=False, submitted=False))
