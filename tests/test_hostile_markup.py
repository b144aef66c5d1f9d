"""Text from outside that looks like Rich markup (`[/bold]`, `[link=...]`) is drawn as the
characters it is: Textual reads a str given to a table cell, a Static or a toast as markup,
and an unmatched closing tag raised MarkupError and ended the whole app."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from tests.helpers import demo_app
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
