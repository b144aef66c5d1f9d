"""What every vtui screen has: the top bar, a body, and the footer with its key bindings."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Input

from vtui.ui.widgets.gpu_strip import GpuStrip
from vtui.ui.widgets.key_bar import KeyBar
from vtui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from vtui.ui.app import VtuiApp


class VtuiScreen(Screen[None]):
    SCREEN_TITLE: ClassVar[str] = ""
    # Every screen shows the GPUs under its top bar, but the GPU screen, which is all GPUs.
    GPU_STRIP: ClassVar[bool] = True
    # Where Esc in a field puts the focus: the widget the screen keys act on.
    MAIN_WIDGET: ClassVar[str | None] = None

    def __init__(self) -> None:
        super().__init__(classes=" ".join(self._breakpoint_classes()))
        # Born with the stylesheet as it is: Textual would otherwise re-parse all of it on
        # a screen's first visit (70-100 ms) to bring a screen up to date that has no
        # widgets yet; they are styled as they mount.
        self._css_update_count = self.app._css_update_count

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Textual restyles every widget of a screen each time it comes back (120 ms on
        Launch): needed only when the stylesheet changed meanwhile (a theme), which bumps
        the app's count. Textual's own handler runs after this one, on the flag set here."""
        if self._css_update_count == self.app._css_update_count:
            event.refresh_styles = False

    def _breakpoint_classes(self) -> set[str]:
        """The size classes the first resize would add: set now, the first frame does not
        restyle the whole screen for them (that cost 50-60 ms of start-up)."""
        width, height = self.app.size
        horizontal = self.HORIZONTAL_BREAKPOINTS or []
        vertical = self.VERTICAL_BREAKPOINTS or []
        return self._get_breakpoint_classes(width, horizontal) | self._get_breakpoint_classes(
            height, vertical
        )

    @property
    def vtui(self) -> VtuiApp:
        from vtui.ui.app import VtuiApp

        return cast(VtuiApp, self.app)

    def compose(self) -> ComposeResult:
        yield TopBar(self.SCREEN_TITLE)
        if self.GPU_STRIP:
            yield GpuStrip()
        yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def data_drawn(self) -> bool:
        """Whether what the screen reads from outside has been drawn (or why not, said):
        headless screenshots wait for it, so none shows a half-loaded screen."""
        return True

    def leave_input(self) -> None:
        """Esc in a field: focus goes to the main widget (or nowhere), so the screen's own
        keys and 1-5 work again."""
        target = self.query(self.MAIN_WIDGET).first() if self.MAIN_WIDGET else None
        self.set_focus(target if target is not None and target.focusable else None)

    def typing(self) -> bool:
        """A text field has the focus: printable keys are its own."""
        return isinstance(self.focused, Input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While typing, a key that is a letter or digit goes into the field: the footer
        leaves out the screen's keys it would have triggered (Ctrl keys stay)."""
        return not (self.typing() and _printable_only(self, action))


def _printable_only(screen: Screen[None], action: str) -> bool:
    """Whether every key the screen binds `action` to is one a text field takes."""
    keys = [
        key
        for key, bindings in screen._bindings.key_to_bindings.items()
        for binding in bindings
        if binding.action == action
    ]
    return bool(keys) and all(_typed(key) for key in keys)


def _typed(key: str) -> bool:
    return len(key) == 1 or key in ("slash", "space", "question_mark", "delete", "backspace")
