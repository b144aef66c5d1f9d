"""The chat input: keys typed into it redraw it alone, and it still scrolls like an Input."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, Static

from vtui.ui.widgets.quiet_input import QuietInput


class Form(App[None]):
    def __init__(self, field: type[Input]) -> None:
        super().__init__()
        self.field = field

    def compose(self) -> ComposeResult:
        for n in range(30):
            yield Static(f"line {n}")
        yield self.field()


def shown(field: Input) -> str:
    return "".join(segment.text for segment in field.render_line(0)).rstrip()


@pytest.mark.parametrize(("field", "layouts"), [(QuietInput, False), (Input, True)])
async def test_keys_redraw_the_input_without_laying_the_screen_out(
    field: type[Input], layouts: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = Form(field)
    async with app.run_test(size=(40, 40)) as pilot:
        app.query_one(Input).focus()
        await pilot.pause()
        laid_out = 0
        lay_out = app.screen._refresh_layout

        def counted(*args: Any, **kwargs: Any) -> None:
            nonlocal laid_out
            laid_out += 1
            lay_out(*args, **kwargs)

        monkeypatch.setattr(app.screen, "_refresh_layout", counted)
        await pilot.press(*"hello")
        await pilot.pause()
        assert app.query_one(Input).value == "hello"
        assert "hello" in shown(app.query_one(Input))
    # A plain Input lays the whole screen out for each key: what QuietInput saves.
    assert (laid_out > 0) is layouts


async def test_a_long_line_scrolls_to_the_cursor_as_in_a_plain_input() -> None:
    typed = "abcdefghij" * 8
    seen = []
    for field in (Input, QuietInput):
        app = Form(field)
        async with app.run_test(size=(40, 40)) as pilot:
            app.query_one(Input).focus()
            app.query_one(Input).insert_text_at_cursor(typed)
            await pilot.press("left", "right")  # the cursor moves: the view follows it
            await pilot.pause()
            seen.append(shown(app.query_one(Input)))
            await pilot.press("home")
            await pilot.pause()
            seen.append(shown(app.query_one(Input)))
    plain_end, plain_home, quiet_end, quiet_home = seen
    assert quiet_end == plain_end and typed.endswith(quiet_end[-20:])
    assert quiet_home == plain_home and quiet_home.startswith("abcdefghij")
