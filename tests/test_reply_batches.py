"""A reply that outruns the screen is drawn a batch a frame: big batches while the user only
reads (fewer frames, so the backlog is drawn sooner), small ones while they type (a key
waits for one small batch); and at most ten batches a second while they type, so that most
frames are the keys' own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from tests.support.chat_helpers import LONG_TEXT, chat, chat_app, until
from tests.support.helpers import ManualClock, simulator
from vtui.core.chat_stream import AnswerDelta
from vtui.ui.keys_seen import TYPING_WINDOW_S, KeysSeen
from vtui.ui.widgets.chat_reply import (
    DRAW_EVERY_S,
    DRAW_EVERY_WHILE_TYPING_S,
    SHOW_AT_ONCE,
    SHOW_WHILE_TYPING,
    ReplyView,
)
from vtui.ui.widgets.long_markdown import FoldedPart, LongMarkdown, MarkdownPart


class OneReply(App[None]):
    # As in the chat's log: the reply as tall as its text, the log scrolling over it.
    CSS = "ReplyView { height: auto; }"

    def __init__(self, keys: KeysSeen, following: bool = False) -> None:
        super().__init__()
        self.keys = keys
        self.following = following

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield ReplyView(self.keys, following=lambda: self.following)


@asynccontextmanager
async def backlogged_reply(clock: ManualClock) -> AsyncIterator[tuple[ReplyView, KeysSeen]]:
    """A reply with LONG_TEXT waiting to be drawn, and keys timed by `clock`."""
    keys = KeysSeen(clock)
    app = OneReply(keys)
    async with app.run_test(size=(100, 30)):
        view = app.query_one(ReplyView)
        view.pending.append(AnswerDelta(LONG_TEXT))
        yield view, keys


def test_typing_lasts_while_keys_keep_coming() -> None:
    clock = ManualClock()
    keys = KeysSeen(clock)
    assert not keys.typing
    keys.pressed()
    clock.advance(TYPING_WINDOW_S - 0.01)
    assert keys.typing
    keys.pressed()
    clock.advance(TYPING_WINDOW_S - 0.01)
    assert keys.typing
    clock.advance(0.02)
    assert not keys.typing


async def test_a_backlog_is_drawn_in_big_batches_and_in_small_ones_while_typing() -> None:
    assert len(LONG_TEXT) > 2 * SHOW_AT_ONCE
    clock = ManualClock()
    async with backlogged_reply(clock) as (view, keys):
        await view.show_pending()
        assert view.answer_text == LONG_TEXT[:SHOW_AT_ONCE]
        keys.pressed()
        await view.show_pending()
        assert view.answer_text == LONG_TEXT[: SHOW_AT_ONCE + SHOW_WHILE_TYPING]
        clock.advance(TYPING_WINDOW_S)
        await view.show_pending()
        assert view.answer_text == LONG_TEXT[: 2 * SHOW_AT_ONCE + SHOW_WHILE_TYPING]


@pytest.mark.parametrize(
    ("typing", "every", "batch"),
    [(False, DRAW_EVERY_S, SHOW_AT_ONCE), (True, DRAW_EVERY_WHILE_TYPING_S, SHOW_WHILE_TYPING)],
)
async def test_batches_are_paced_and_slower_while_the_user_types(
    typing: bool, every: float, batch: int
) -> None:
    clock = ManualClock()
    async with backlogged_reply(clock) as (view, keys):
        clock.advance(1)
        if typing:
            keys.pressed()
        await view.on_reply_view_draw(ReplyView.Draw())
        assert view.answer_text == LONG_TEXT[:batch]
        # Frames pass in real time, but not a pace's worth by the view's clock: they are
        # the keys' (or nobody's), and nothing more is drawn.
        await asyncio.sleep(0.3)
        assert view.answer_text == LONG_TEXT[:batch]
        clock.advance(every)
        if typing:
            keys.pressed()
        await until(lambda: len(view.answer_text) > batch)
        assert view.answer_text == LONG_TEXT[: 2 * batch]


async def test_the_app_counts_every_key_as_typing_and_enter_ends_it() -> None:
    with simulator("--model", "Qwen/Qwen2.5-7B-Instruct") as sim:
        app = chat_app(sim.url)
        # The test's own clock: on a loaded machine a key press can take longer than the
        # window itself, and a real clock then ended the typing before it was asked about.
        clock = ManualClock()
        app.keys_seen = KeysSeen(clock)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = chat(app)
            await until(lambda: screen.served)
            assert not app.keys_seen.typing
            await pilot.press("h")
            assert app.keys_seen.typing
            clock.advance(TYPING_WINDOW_S)
            assert not app.keys_seen.typing
            # A question sent straight after its last letter: the reply is read, not typed
            # over, and is drawn at full pace from its first batch.
            await pilot.press("h", "enter")
            assert not app.keys_seen.typing


@pytest.mark.parametrize("following", [True, False])
async def test_batches_keep_the_end_drawn_while_the_view_follows_it(following: bool) -> None:
    # Nobody scrolls here: the view stays at the top while the reply grows below it.
    clock = ManualClock()
    app = OneReply(KeysSeen(clock), following)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ReplyView)
        view.pending.append(AnswerDelta(LONG_TEXT + LONG_TEXT))
        while view.pending:
            clock.advance(1)
            await view.on_reply_view_draw(ReplyView.Draw())
            await pilot.pause()
        # One more pass, as the next batch would make, with the last one laid out.
        clock.advance(1)
        await view.on_reply_view_draw(ReplyView.Draw())
        parts = view.query_one(".chat-answer", LongMarkdown).parts
        assert len(parts) > 3
        # The last sealed part: the one still growing never folds.
        assert isinstance(parts[-2], MarkdownPart if following else FoldedPart)


async def test_a_draw_due_a_moment_later_still_comes() -> None:
    # A Draw that comes a hair before its time waits that hair. Textual's own timer skips a
    # tick whose time has passed before its task first runs, so the reply stopped there.
    clock = ManualClock()
    async with backlogged_reply(clock) as (view, _keys):
        clock.advance(1)
        await view.on_reply_view_draw(ReplyView.Draw())
        assert view.answer_text == LONG_TEXT[:SHOW_AT_ONCE]
        # The next Draw waits for the pace, again and again while this clock stands still;
        # then one comes a hair before its time.
        await asyncio.sleep(0.1)
        clock.advance(DRAW_EVERY_S - 1e-9)
        await asyncio.sleep(0.1)
        assert view.answer_text == LONG_TEXT[:SHOW_AT_ONCE]
        clock.advance(1e-9)
        await until(lambda: len(view.answer_text) > SHOW_AT_ONCE, limit=2)
        assert view.answer_text == LONG_TEXT[: 2 * SHOW_AT_ONCE]
