"""Text from outside that looks like Rich markup (`[/bold]`, `[link=...]`) is drawn as the
characters it is: Textual reads a str given to a table cell, a Static or a toast as markup,
and an unmatched closing tag raised MarkupError and ended the whole app."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from tests.support.helpers import demo_app
from vtui.backends.hub.simulated import SimulatedHub
from vtui.core.model_details import ModelDetails
from vtui.ui.headless import settle

MARKUP = "[/bold]odd[link=https://evil.example]licence"


class MarkupHub(SimulatedHub):
    """The simulated Hub, but every licence and every error says MARKUP."""

    def details(self, repo_id: str) -> ModelDetails:
        return replace(super().details(repo_id), license=MARKUP)


@pytest.mark.attack("malformed-answers")
async def test_markup_in_a_hub_answer_is_shown_as_text() -> None:
    app = demo_app()
    app.backends.hub = MarkupHub()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        table: DataTable[Any] = app.screen.query_one("#models-table", DataTable)
        table.move_cursor(row=table.get_row_index("Qwen/Qwen3-8B"))
        await settle(app)
        shown = str(app.screen.query_one("#model-details", Static).render())
        assert MARKUP in shown
        app.notify(f"an engine said: {MARKUP}")
        await pilot.pause()
        assert app.is_running


@pytest.mark.attack("terminal-escapes")
async def test_a_headless_screenshot_of_a_hostile_listing_holds_no_control_byte(
    tmp_path: Any,
) -> None:
    """The real Hub backend against a mirror whose licence carries escape sequences: the
    details pane shows them as text, and the SVG vtui exports holds no control byte."""
    import re

    from tests.support.hostile_endpoint import ESCAPES
    from tests.support.hub_server import hub_server
    from vtui.backends.hub.hf import HfHub

    def edit(record: dict[str, Any]) -> None:
        record["cardData"] = {"license": "mit" + ESCAPES}
        record["pipeline_tag"] = "text-generation" + ESCAPES

    with hub_server() as hub:
        hub.listing_edit = edit
        app = demo_app()
        app.backends.hub = HfHub(hub.url)
        async with app.run_test(size=(120, 40)):
            await settle(app)
            table: DataTable[Any] = app.screen.query_one("#models-table", DataTable)
            table.move_cursor(row=table.get_row_index("Qwen/Qwen3-8B"))
            await settle(app)
            shown = str(app.screen.query_one("#model-details", Static).render())
            svg = app.export_screenshot()
    assert "mit\u241b]52;c;SG9zdGlsZQ==" in shown, shown
    assert re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", svg) is None
