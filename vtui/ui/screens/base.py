"""What every vtui screen has: the top bar, a body, and the footer with its key bindings."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from vtui.ui.widgets.gpu_strip import GpuStrip
from vtui.ui.widgets.top_bar import TopBar

if TYPE_CHECKING:
    from vtui.ui.app import VtuiApp


class VtuiScreen(Screen[None]):
    SCREEN_TITLE: ClassVar[str] = ""
    # Every screen shows the GPUs under its top bar, but the GPU screen, which is all GPUs.
    GPU_STRIP: ClassVar[bool] = True

    @property
    def vtui(self) -> VtuiApp:
        from vtui.ui.app import VtuiApp

        return cast(VtuiApp, self.app)

    def compose(self) -> ComposeResult:
        yield TopBar(self.SCREEN_TITLE)
        if self.GPU_STRIP:
            yield GpuStrip()
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()
