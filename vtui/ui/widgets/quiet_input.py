"""An Input whose typing redraws only itself.

Textual's Input sets its virtual size (the text's width, for scrolling it sideways) on every
change of its value, and its base class declares that size as something that changes the
layout. So each key laid the whole screen out again: on the Chat screen, with a long reply
on it, 10-20 ms per key on a 2-core machine, and the same again for every frame a key arrived
in the middle of. The Input scrolls its text by itself, from its own virtual size; nothing
around it depends on that size, so a repaint is enough.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class QuietInput(Input):
    """Also the keys a person trusts in a field: focus puts the cursor at the end (it does
    not select all, so the first key typed does not replace the value), and Esc leaves the
    field for the screen's main widget, where the screen keys work again."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "leave_field", "Leave field")]
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), repaint=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)

    def on_mount(self) -> None:
        # Without a terminal (screenshots, tests) a blinking cursor would be drawn or not by
        # how long the run took.
        if self.app.is_headless:
            self.cursor_blink = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_field":
            # A dialog's Esc cancels it, and a screen may want Esc first (Chat stops a
            # reply): the key then goes on to them.
            leave = getattr(self.screen, "leave_input", None)
            taken = getattr(self.screen, "escape_taken", lambda: False)
            return callable(leave) and not taken()
        return super().check_action(action, parameters)

    def action_leave_field(self) -> None:
        self.screen.leave_input()  # type: ignore[attr-defined]
