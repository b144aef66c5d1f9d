"""Work-arounds for Textual bugs, each shown to matter: without it, the test fails."""

from __future__ import annotations

import gc
import weakref

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from vtui.ui import textual_fixes


class Cards(App[None]):
    def compose(self) -> ComposeResult:
        yield Vertical(id="cards")


async def test_widgets_taken_off_the_screen_leave_none_of_their_drawn_lines_behind() -> None:
    textual_fixes.apply()
    app = Cards()
    async with app.run_test(size=(80, 30)) as pilot:
        cards = app.query_one("#cards")
        kept: list[weakref.ref[object]] = []
        for round_ in range(5):
            await cards.mount_all(Static(f"card {round_}.{n}") for n in range(20))
            await pilot.pause()  # drawn: each has cached its lines
            kept += [weakref.ref(card._styles_cache) for card in cards.query(Static)]
            await cards.remove_children()
        # Cards that Textual has since laid out without (it keeps the last ones a while).
        await cards.mount(Static("the last card"))
        await pilot.pause()
        gc.collect()
        left = [ref for ref in kept if ref() is not None]
    assert kept
    assert left == []


def test_applying_the_fixes_twice_changes_nothing() -> None:
    from textual._styles_cache import StylesCache

    textual_fixes.apply()
    fixed = StylesCache.get_inner_outer
    textual_fixes.apply()
    assert StylesCache.get_inner_outer is fixed
