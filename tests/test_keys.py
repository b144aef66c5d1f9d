"""Keys a user can trust, through the real key handling: what is typed into a field stays
in the field, Esc leaves it, the footer offers only the keys that work now, and quitting
asks when work would be lost."""

from __future__ import annotations

from textual.widgets import Input

from tests.support.helpers import demo_app
from tests.support.screens import open_launch, screen_lines, shown
from vtui.ui.app import VtuiApp
from vtui.ui.headless import settle
from vtui.ui.screens.launch import LaunchScreen
from vtui.ui.screens.server import ServerScreen
from vtui.ui.widgets.dialogs import Confirm
from vtui.ui.widgets.key_bar import KeyBar


def footer_words(app: VtuiApp) -> str:
    """The footer as drawn: its keys and their words."""
    return shown(app.screen.query_one(KeyBar))


async def focus_field(app: VtuiApp, pilot: object, field_id: str) -> Input:
    box = app.screen.query_one(f"#field-{field_id} Input", Input)
    box.focus()
    await settle(app)
    return box


async def test_a_digit_typed_in_a_field_goes_to_its_end_and_esc_gives_the_keys_back() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        box = await focus_field(app, pilot, "model")
        before = box.value
        assert before and box.selection.is_empty  # nothing selected on focus
        await pilot.press("3")
        await settle(app)
        assert isinstance(app.screen, LaunchScreen)
        assert box.value == before + "3"  # appended, not replacing the model
        await pilot.press("backspace", "escape")
        await settle(app)
        assert app.focused is app.screen.query_one("#launch-form")
        assert box.value == before
        await pilot.press("3")
        await settle(app)
        assert isinstance(app.screen, ServerScreen)


async def test_q_and_digits_typed_in_a_number_field_are_text_not_screen_keys() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        box = await focus_field(app, pilot, "gpu-memory-utilization")
        before = box.value
        await pilot.press("1", "4", "2", "q")
        await settle(app)
        assert app.is_running and isinstance(app.screen, LaunchScreen)
        assert box.value == before + "142q"


async def test_the_footer_offers_the_keys_that_work_now() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        # Models opens in its search box: letters and digits are text there.
        typing = footer_words(app)
        assert "esc Leave field" in typing and "tab Next field" in typing
        assert "Screens" not in typing and "Quit" not in typing and "Download" not in typing
        await pilot.press("escape")
        await settle(app)
        keys = footer_words(app)
        assert "Screens" in keys and "Quit" in keys and "Download" in keys
        assert "Leave field" not in keys


async def test_ctrl_q_and_ctrl_c_ask_before_losing_a_profiles_changes() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_launch(app, pilot)
        box = await focus_field(app, pilot, "max-model-len")
        await pilot.press("end", "0")
        await settle(app)
        # From the field itself (Ctrl+C there copies nothing: no text is selected) and
        # from outside it.
        for key, where in (("ctrl+q", box), ("ctrl+q", app.screen.query_one("#launch-form")),
                           ("ctrl+c", app.screen.query_one("#launch-form"))):  # fmt: skip
            where.focus()
            await pilot.press(key)
            await settle(app)
            assert isinstance(app.screen, Confirm), key
            assert "changes not saved" in app.screen.question
            await pilot.press("n")
            await settle(app)
            assert app.is_running
        assert box.value.endswith("0")


async def test_esc_in_a_dialogs_field_cancels_the_dialog() -> None:
    from vtui.ui.widgets.dialogs import AskText

    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        answers: list[str | None] = []
        app.push_screen(AskText("Name?", "abc"), answers.append)
        await settle(app)
        await pilot.press("escape")
        await settle(app)
        assert answers == [None] and not isinstance(app.screen, AskText)


def test_the_footer_drops_whole_entries_from_the_end_and_keeps_screens_and_quit() -> None:
    from vtui.core.key_bar import KeyEntry, fit_keys

    entries = [
        KeyEntry("x", "Stop"),
        KeyEntry("R", "Restart"),
        KeyEntry("e", "First error"),
        KeyEntry("12345", "Screens", keep=True),
        KeyEntry("q", "Quit", keep=True),
    ]
    palette = KeyEntry("^p", "palette", keep=True)
    assert fit_keys(entries, palette, 200) == [*entries, palette]
    narrow = fit_keys(entries, palette, 40)
    assert [e.words for e in narrow] == ["Stop", "Screens", "Quit", "more"]
    assert sum(e.width for e in narrow) + 2 * (len(narrow) - 1) <= 40


async def test_a_long_question_wraps_inside_its_dialog_at_80_and_120_columns() -> None:
    question = (
        "Stop vtui-qwen2.5-7b-instruct? vLLM gets SIGTERM, then SIGKILL after 30 s; the "
        "container is kept (D removes it)."
    )
    for size in ((80, 24), (120, 40)):
        app = demo_app()
        async with app.run_test(size=size) as pilot:
            await settle(app)
            app.push_screen(Confirm(question))
            await settle(app)
            drawn = " ".join(" ".join(screen_lines(app)).replace("\u2588", " ").split())
            assert "(D removes it)." in drawn and "y: yes" in drawn
            await pilot.press("n")
