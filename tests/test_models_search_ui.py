"""The Models screen's search as a user drives it: typing, filters, the details pane, and
a Hub that makes it wait."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.widgets import DataTable, Select, Static

from tests.support.helpers import demo_app
from tests.support.hub_server import hub_server
from vtui.backends.hub.hf import HfHub
from vtui.backends.hub.simulated import SimulatedHub
from vtui.core.model_search import SearchQuery
from vtui.ui.app import VtuiApp
from vtui.ui.headless import settle


class CountingHub(SimulatedHub):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[SearchQuery] = []

    def search(self, query: SearchQuery, limit: int = 30, on_wait: Any = None) -> Any:
        self.asked.append(query)
        return super().search(query, limit, on_wait)


def rows(app: VtuiApp) -> list[str]:
    table: DataTable[Any] = app.screen.query_one("#models-table", DataTable)
    return [str(key.value) for key in table.rows]


def text(app: VtuiApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_results_follow_typing_and_the_hub_is_asked_once_per_pause() -> None:
    app = demo_app()
    hub = CountingHub()
    app.backends.hub = hub
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        # The screen opens in its search box: the q of qwen3 is a letter, not Quit.
        await pilot.press(*"qwen3")  # no Enter
        await settle(app)
        assert app.is_running
        assert rows(app)[:2] == ["Qwen/Qwen3-8B", "Qwen/Qwen3-30B-A3B"]
        assert all("qwen3" in r.lower() for r in rows(app))
        # Five keys, one question: each key cancelled the search the one before started.
        assert [q.text for q in hub.asked] == ["", "qwen3"]
        assert "matching \u201cqwen3\u201d" in text(app, "#models-status")


async def test_filters_narrow_the_list_and_the_status_says_how() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        app.screen.query_one("#quant-filter", Select).value = "AWQ"
        await settle(app)
        assert rows(app) == ["Qwen/Qwen3-8B-AWQ"]
        app.screen.query_one("#quant-filter", Select).value = "any"
        app.screen.query_one("#size-filter", Select).value = "80B+"
        await settle(app)
        assert rows(app) == ["openai/gpt-oss-120b"]
        app.screen.query_one("#size-filter", Select).value = "any"
        app.screen.query_one("#sort-by", Select).value = "likes"
        await settle(app)
        assert rows(app)[0] == "meta-llama/Llama-3.1-8B-Instruct"
        assert "by likes" in text(app, "#models-status")
        await pilot.pause()


async def test_the_details_pane_follows_the_cursor() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        table: DataTable[Any] = app.screen.query_one("#models-table", DataTable)
        table.move_cursor(row=table.get_row_index("meta-llama/Llama-3.1-8B-Instruct"))
        await settle(app)
        shown = text(app, "#model-details")
        assert "gated (manual)" in shown and "hf auth login" in shown
        assert "LlamaForCausalLM" in shown and "context 131,072" in shown
        assert "Fit here   fits, but only 3.5 requests at full length" in shown
        table.move_cursor(row=table.get_row_index("Qwen/Qwen3-8B-GGUF"))
        await settle(app)
        shown = text(app, "#model-details")
        assert "experimental" in shown and "none vLLM can load" in shown
        await pilot.pause()


async def test_a_rate_limited_hub_shows_the_wait_then_the_results(tmp_path: Any) -> None:
    app = demo_app()
    with hub_server() as hub:
        hub.rate_limited, hub.retry_after = 1, 1
        app.backends.hub = HfHub(hub.url)
        async with app.run_test(size=(120, 40)) as pilot:
            deadline = time.monotonic() + 10
            while "rate limiting" not in text(app, "#models-status"):
                assert time.monotonic() < deadline, text(app, "#models-status")
                await pilot.pause(0.05)
            assert "asking again in 2 s" in text(app, "#models-status")
            while not rows(app):
                assert time.monotonic() < deadline
                await pilot.pause(0.05)
            assert rows(app)[0] == "Qwen/Qwen2.5-7B-Instruct"
            await settle(app)


async def test_reading_the_hub_writes_nothing_over_the_screen(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """huggingface_hub draws a progress bar per config.json it fetches for the fit column;
    under the app they would land on the terminal, over the screen."""
    app = demo_app()
    with hub_server() as hub:
        app.backends.hub = HfHub(hub.url)
        async with app.run_test(size=(120, 40)):
            await settle(app)
            assert "fits" in str(app.screen.query_one("#models-table", DataTable).get_row_at(0))
    written = capfd.readouterr()
    assert "config.json" not in written.err and "%|" not in written.err, written.err[-300:]
