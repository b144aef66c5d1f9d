"""A plain panel that says why a screen has nothing to show, in words a user can act on."""

from __future__ import annotations

from textual.widgets import Static


class Notice(Static):
    DEFAULT_CLASSES = "notice"

    def show(self, text: str, *, error: bool = False) -> None:
        self.set_class(error, "error")
        self.update(text)
        self.display = True

    def hide(self) -> None:
        self.display = False
