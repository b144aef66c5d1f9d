"""A long streamed reply is kept in parts: each renders as one Markdown would have, far
parts fold to their height, and nothing moves or goes missing when they do."""

from __future__ import annotations

import gc
import random

import pytest
from markdown_it.renderer import RendererHTML
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Markdown

from tests.support.chat_helpers import LONG_TEXT, chat_with_long_replies, reply_drawn, until
from vtui.ui.widgets.chat_reply import ReplyView
from vtui.ui.widgets.long_markdown import (
    SEAL_AFTER_BLOCKS,
    FoldedPart,
    LongMarkdown,
    MarkdownPart,
    Part,
    last_block_line,
    near_view,
)


class Alone(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield LongMarkdown()


class OneOfEach(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(id="whole")
            yield LongMarkdown()


def block_kinds(markdown: Markdown) -> list[str]:
    return [type(block).__name__ for block in markdown.children]


async def stream_whole_text(long: LongMarkdown, pilot: Pilot[None]) -> None:
    """LONG_TEXT streamed in 40-character pieces, finished and laid out."""
    for at in range(0, len(LONG_TEXT), 40):
        await long.append(LONG_TEXT[at : at + 40])
    long.finish()
    await pilot.pause()


async def refold_until_settled(
    long: LongMarkdown, scroll: VerticalScroll, pilot: Pilot[None], following: bool = False
) -> None:
    """Passes until nothing changes: the first measures at this width, the next folds."""
    for _ in range(5):
        if await long.refold(near_view(scroll, following)):
            return
        await pilot.pause()


def test_the_last_block_starts_where_the_growing_text_would_be_parsed_again() -> None:
    text = "# Title\n\nA paragraph\nthat goes on.\n\n- one\n- two\n\n```python\nx = 1\n"
    assert text.splitlines()[last_block_line(text)] == "```python"
    assert last_block_line("just one line") == 0


async def test_parts_render_the_blocks_one_markdown_renders_whatever_the_chunks() -> None:
    app = OneOfEach()
    async with app.run_test(size=(100, 40)) as pilot:
        whole = app.query_one("#whole", Markdown)
        await whole.update(LONG_TEXT)
        long = app.query_one(LongMarkdown)
        chunks = random.Random(7)
        at = 0
        while at < len(LONG_TEXT):
            size = chunks.randint(1, 80)
            await long.append(LONG_TEXT[at : at + size])
            at += size
        await pilot.pause()
        assert long.source == LONG_TEXT
        assert len(long.parts) > 3  # it was split, not kept as one Markdown
        parts = [part for part in long.parts if isinstance(part, MarkdownPart)]
        assert len(parts) == len(long.parts)  # nothing here folds them
        assert [kind for part in parts for kind in block_kinds(part.markdown)] == block_kinds(whole)
        assert all(len(part.markdown.children) <= SEAL_AFTER_BLOCKS + 1 for part in parts)


async def test_streaming_text_builds_no_parser_per_piece() -> None:
    # Each parser is a knot of reference cycles: garbage that only a full collection, a
    # pause in the middle of the stream, takes away.
    app = Alone()
    async with app.run_test(size=(100, 40)):
        long = app.query_one(LongMarkdown)
        await long.append(LONG_TEXT[:200])
        gc.collect()
        gc.disable()
        try:
            before = parsers_alive()
            for at in range(200, 4000, 40):
                await long.append(LONG_TEXT[at : at + 40])
            built = parsers_alive() - before
        finally:
            gc.enable()
    assert long.source == LONG_TEXT[:4000]
    assert built == 0


def parsers_alive() -> int:
    """Parsers' renderers, alive or garbage: what a parser leaves once it is dropped."""
    return sum(isinstance(thing, RendererHTML) for thing in gc.get_objects())


async def settled_height(scroll: VerticalScroll, pilot: Pilot[None]) -> int:
    """The scroll's content height once five looks in a row agree (a few seconds at most)."""
    seen: list[int] = []
    for _ in range(200):
        await pilot.pause(0.02)
        seen.append(scroll.virtual_size.height)
        if len(seen) >= 5 and len(set(seen[-5:])) == 1:
            break
    return seen[-1]


async def test_a_long_reply_folds_far_parts_and_draws_them_again_when_scrolled_to() -> None:
    async with chat_with_long_replies() as (_app, pilot, screen):
        await pilot.press(*"go", "enter")
        await until(lambda: reply_drawn(screen), limit=60)
        answer = screen.query(ReplyView).last().query_one(".chat-answer", LongMarkdown)
        await until(lambda: isinstance(answer.parts[0], FoldedPart))
        folded = sum(isinstance(part, FoldedPart) for part in answer.parts)
        assert folded > len(answer.parts) // 2  # most of it is far from the bottom
        log = screen.query_one("#chat-log", VerticalScroll)
        # On a loaded machine the layout of the last parts can trail the fold: the height
        # counts once it holds still.
        height = await settled_height(log, pilot)

        log.scroll_home(animate=False)
        await until(lambda: isinstance(answer.parts[0], MarkdownPart))
        await pilot.pause()
        first = answer.parts[0]
        assert isinstance(first, MarkdownPart)
        assert first.markdown.source.startswith("This is vtui's vLLM simulator")
        assert isinstance(answer.parts[-1], FoldedPart)  # the end is now far away
        # Folding kept every part's place: the conversation is as tall as before.
        assert await settled_height(log, pilot) == height
        assert answer.source == screen.conversation.turns[1].content


async def test_a_pass_run_before_a_scroll_is_laid_out_draws_what_is_scrolled_to() -> None:
    # The pass after a scroll can run before the screen has laid the scroll out (the order
    # of the two is not fixed); positions on screen then still say where things were.
    app = Alone()
    async with app.run_test(size=(100, 30)) as pilot:
        long = app.query_one(LongMarkdown)
        scroll = app.query_one(VerticalScroll)
        await stream_whole_text(long, pilot)
        scroll.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        await refold_until_settled(long, scroll, pilot)
        assert isinstance(long.parts[0], FoldedPart)
        assert isinstance(long.parts[-1], MarkdownPart)

        scroll.scroll_home(animate=False, immediate=True)
        await long.refold(near_view(scroll))
        assert isinstance(long.parts[0], MarkdownPart)
        assert isinstance(long.parts[-1], FoldedPart)


async def test_a_view_that_follows_the_text_down_keeps_the_end_drawn_before_it_gets_there() -> None:
    app = Alone()
    async with app.run_test(size=(100, 30)) as pilot:
        long = app.query_one(LongMarkdown)
        scroll = app.query_one(VerticalScroll)
        await stream_whole_text(long, pilot)
        # Still at the top, as when text has come faster than the view has moved down.
        assert scroll.scroll_y == 0
        for following in (True, False):
            await refold_until_settled(long, scroll, pilot, following)
            first, last = long.parts[0], long.parts[-1]
            assert isinstance(last, MarkdownPart if following else FoldedPart)
            assert isinstance(first, FoldedPart if following else MarkdownPart)


async def test_a_followed_reply_never_folds_a_part_it_then_draws_again() -> None:
    # A folded part drawn again shows blank for a frame in between: a flash at the end of
    # the reply, where the user is reading.
    unfolded = []
    swap = LongMarkdown._swap

    async def counting(self: LongMarkdown, old: Part, new: Part) -> None:
        if isinstance(old, FoldedPart):
            unfolded.append(old.text)
        await swap(self, old, new)

    async with chat_with_long_replies() as (_app, pilot, screen):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(LongMarkdown, "_swap", counting)
            await pilot.press(*"go", "enter")
            await until(lambda: reply_drawn(screen), limit=60)
            await pilot.pause()
        answer = screen.query(ReplyView).last().query_one(".chat-answer", LongMarkdown)
        assert isinstance(answer.parts[0], FoldedPart)  # it did fold what scrolled away
    assert unfolded == []


async def test_hidden_text_keeps_its_far_parts_folded() -> None:
    # A reasoning block folded away by its Collapsible is not laid out: drawing its far
    # parts again then would build every block of it for nothing.
    app = Alone()
    async with app.run_test(size=(100, 30)) as pilot:
        long = app.query_one(LongMarkdown)
        scroll = app.query_one(VerticalScroll)
        await stream_whole_text(long, pilot)
        await refold_until_settled(long, scroll, pilot)
        folded = [part for part in long.parts if isinstance(part, FoldedPart)]
        assert folded

        long.display = False
        await pilot.pause()
        assert await long.refold(near_view(scroll))
        assert [part for part in long.parts if isinstance(part, FoldedPart)] == folded
