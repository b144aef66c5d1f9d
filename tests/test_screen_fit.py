"""Every screen and dialog at 80x24 and 120x40: no word cut by an edge or an ellipsis, no
table column cut (#29 item 4). The checker itself is shown to catch a cut first."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Static

from tests.support.cut_words import cut_words
from tests.support.helpers import demo_app
from vtui.ui.headless import drawn, settle

# (screen, keys pressed there): each dialog is opened from where the user opens it.
SCENES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("models", ()),
    ("models", ("down", "down", "d")),  # a download, done
    ("models", ("l",)),  # the local list
    ("launch", ()),
    ("launch", ("tab", "tab")),  # a field's help
    ("launch", ("ctrl+n",)),
    ("launch", ("ctrl+o",)),
    ("launch", ("ctrl+x",)),
    ("server", ()),
    ("server", ("x",)),
    ("server", ("R",)),
    ("server", ("b",)),
    ("gpu", ()),
    ("chat", ()),
    ("chat", ("ctrl+o",)),
    ("chat", ("ctrl+g",)),
)


class _CutApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("short words, then a verdict too long for the line", id="cut")
        table: DataTable[str] = DataTable(id="narrow")
        table.add_column("Model", width=8)
        table.add_row("meta-llama/Llama-3.1-8B")
        yield table


async def test_the_checker_finds_a_word_cut_by_the_edge_and_a_cut_cell() -> None:
    app = _CutApp()
    app.CSS = "#cut { text-wrap: nowrap; text-overflow: ellipsis; width: 30; }"
    async with app.run_test(size=(40, 10)):
        cuts = cut_words(app)
    assert any("Static#cut" in cut and "\u2026" in cut for cut in cuts), cuts
    assert any("'Model' is 8 wide" in cut for cut in cuts), cuts


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_no_screen_or_dialog_cuts_a_word(size: tuple[int, int]) -> None:
    app = demo_app()
    found: list[str] = []
    async with app.run_test(size=size) as pilot:
        await settle(app)
        for mode, keys in SCENES:
            await app.switch_mode(mode)
            await settle(app)
            await drawn(app)
            await pilot.press("escape")  # out of a search box or field first
            await settle(app)
            for key in keys:
                await pilot.press(key)
                await settle(app)
            found += [f"{mode} {' '.join(keys)}: {cut}" for cut in cut_words(app)]
            if keys:
                await pilot.press("escape")
                await settle(app)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_eight_gpus_fit_the_gpu_screen(size: tuple[int, int]) -> None:
    app = demo_app(gpu_count=8)
    async with app.run_test(size=size):
        await settle(app)
        await app.switch_mode("gpu")
        await settle(app)
        await drawn(app)
        assert not cut_words(app), "\n".join(cut_words(app))
