"""Driving screens as a user does, for the pilot tests: open one, type into a field, wait
for what the screen shows, read a widget's text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Input, Static

from vtui.ui.app import VtuiApp
from vtui.ui.headless import settle
from vtui.ui.screens.launch import LaunchScreen
from vtui.ui.widgets.arg_field import ArgField


def shown(widget: Widget) -> str:
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


async def open_launch(app: VtuiApp, pilot: Any) -> LaunchScreen:
    await settle(app)
    await pilot.press("escape", "2")  # out of the Models search box first
    await settle(app)
    await settle(app)
    assert isinstance(app.screen, LaunchScreen)
    return app.screen


async def type_into(app: VtuiApp, pilot: Any, field_id: str, text: str) -> None:
    field = app.screen.query_one(f"#field-{field_id}", ArgField)
    box = field.query_one(Input)
    box.focus()
    box.value = ""
    await pilot.press(*text)
    await settle(app)


def text_of(app: VtuiApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def until(app: VtuiApp, what: str, test: Callable[[], bool], limit: float = 8.0) -> None:
    """Polls as a user would wait: the screen follows on its own, once a second. (Not
    settle(): the screen's watch worker runs until the screen goes.)"""
    for _ in range(int(limit / 0.1)):
        await asyncio.sleep(0.1)
        if test():
            return
    raise AssertionError(f"the Server screen never showed {what}")


def screen_lines(app: VtuiApp) -> list[str]:
    """The whole screen as the terminal would show it, one string per row."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text().splitlines()
