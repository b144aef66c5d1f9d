"""A plain panel that says why a screen has nothing to show, in words a user can act on."""

from __future__ import annotations

from textual.widgets import Static


class Notice(Static):
    DEFAULT_CLASSES = "notice"

    def show(self, text: str, *, error: bool = False) -> None:
        self.set_class(error, "error")
        # Every "unavailable" leads to the checks that say what to fix.
        hint = "\nCtrl+G: vtui doctor checks this machine and names the fix." if error else ""
        self.update(text + hint)
        self.display = True

    def hide(self) -> None:
        self.display = False
