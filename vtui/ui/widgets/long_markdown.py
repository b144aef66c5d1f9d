"""Markdown that grows as it streams and stays cheap to lay out however long it gets.

Textual lays the whole screen out again whenever a widget changes size, walking every widget
on it, and its Markdown is one widget per block (more for lists and code). A reply of a few
thousand tokens is hundreds of blocks, so each token that grew the last paragraph cost a walk
over all of them, and the conversation above, and keys waited behind it.

So the text is kept in parts. Only the last part grows; once it holds SEAL_AFTER_BLOCKS
blocks, the finished blocks stay where they are as a sealed part and the block still
growing starts a new part. A sealed part far from the view folds: it is replaced by a
blank widget of its measured height that keeps only its text, so neither layout nor
Python's garbage collector (whose full passes grow with every object alive) walks its
blocks; it is drawn again before it scrolls into view.

The split falls where Textual's own incremental parser restarts (the start of the last
top-level block), so each part renders as one Markdown widget would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from markdown_it import MarkdownIt
from textual.containers import Vertical
from textual.errors import NoWidget
from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock

SEAL_AFTER_BLOCKS = 16

# Textual's Markdown builds a parser for every append; each one is a knot of reference
# cycles (its linkify and renderer hold themselves) that only a garbage collection frees.
# Parsing keeps no state in the parser, so one serves every part.
GFM = MarkdownIt("gfm-like")


def gfm() -> MarkdownIt:
    return GFM


class MarkdownPart(Vertical):
    """A run of whole blocks, drawn."""

    DEFAULT_CSS = "MarkdownPart { height: auto; }"

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text
        self.markdown = Markdown(text, parser_factory=gfm)

    def compose(self) -> Iterable[Widget]:
        yield self.markdown


class FoldedPart(Widget):
    """A part far from view: blank, as tall as the part was drawn at this width."""

    def __init__(self, text: str, height: int) -> None:
        super().__init__()
        self.text = text
        self.styles.height = height

    def render(self) -> str:
        return ""


Part = MarkdownPart | FoldedPart


class LongMarkdown(Vertical):
    DEFAULT_CSS = "LongMarkdown { height: auto; }"

    def __init__(self, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.parts: list[Part] = []
        self.finished = False
        # Folding swaps widgets in several awaited steps; one swap at a time.
        self._swapping = asyncio.Lock()
        # Heights pinned and folded are measured at this width; another voids them.
        self._measured_at_width = 0

    @property
    def source(self) -> str:
        """The Markdown drawn so far."""
        return "".join(part.text for part in self.parts)

    @property
    def sealed(self) -> list[Part]:
        """The parts that no longer change: all of them once the text is finished."""
        return self.parts if self.finished else self.parts[:-1]

    def finish(self) -> None:
        self.finished = True

    async def append(self, text: str) -> None:
        if not text:
            return
        if not self.parts:
            await self._start_part()
        live = self.parts[-1]
        assert isinstance(live, MarkdownPart), "the growing part is never folded"
        live.text += text
        await live.markdown.append(text)
        if len(live.markdown.children) > SEAL_AFTER_BLOCKS:
            await self._seal(live)

    async def clear(self) -> None:
        """Nothing drawn, as before the first text."""
        async with self._swapping:
            self.parts = []
            self.finished = False
            await self.remove_children()

    async def _start_part(self, text: str = "") -> None:
        part = MarkdownPart()
        self.parts.append(part)
        await self.mount(part)
        if text:
            part.text = text
            await part.markdown.append(text)

    async def _seal(self, live: MarkdownPart) -> None:
        """Leave the finished blocks of the growing part where they are; the block still
        growing moves to a new part."""
        lines = live.text.splitlines(keepends=True)
        growing_from = last_block_line(live.text)
        moving = [
            block
            for block in live.markdown.children
            if isinstance(block, MarkdownBlock) and block.source_range[0] >= growing_from
        ]
        if growing_from == 0 or not moving:
            return
        live.text = "".join(lines[:growing_from])
        with self.app.batch_update():
            await self._start_part("".join(lines[growing_from:]))
            await live.markdown.remove_children(moving)

    async def refold(self, near: NearView) -> bool:
        """Fold the sealed parts outside `near`, draw the folded ones inside it again, and
        pin the height of the drawn ones. False when another pass should follow the next
        frame, which places what this one swapped: a part was folded or drawn again, or the
        width changed (then every part is drawn again, to be measured)."""
        async with self._swapping:
            if not self.size.width:
                # Not laid out: hidden (a folded-away reasoning block), or being removed.
                # Whatever is folded stays so until it is shown at a width again.
                return True
            if self.size.width != self._measured_at_width:
                self._measured_at_width = self.size.width
                await self._unfold_all()
                return False
            settled = True
            for part in self.sealed:
                if isinstance(part, FoldedPart):
                    if near.reaches(part):
                        await self._swap(part, MarkdownPart(part.text))
                        settled = False
                # Not laid out yet: its height is still to be measured.
                elif not part.size.height:
                    continue
                elif not near.reaches(part):
                    await self._swap(part, FoldedPart(part.text, part.outer_size.height))
                    settled = False
                elif part.styles.height is None or part.styles.height.is_auto:
                    # Sized by its content, a part is measured again, every block of it,
                    # each time the reply grows; its text no longer changes, so pin it.
                    part.styles.height = part.outer_size.height
            return settled

    async def _unfold_all(self) -> None:
        """Draw every part, sized by its content: to be measured again at a new width."""
        for part in self.parts:
            if isinstance(part, FoldedPart):
                await self._swap(part, MarkdownPart(part.text))
            else:
                part.styles.height = "auto"

    async def _swap(self, old: Part, new: Part) -> None:
        # Removed, not hidden: nothing keeps the old part, so its widgets can be freed.
        self.parts[self.parts.index(old)] = new
        with self.app.batch_update():
            await self.mount(new, before=old)
            await old.remove()


def last_block_line(text: str) -> int:
    """The line the last top-level block starts on: Textual re-parses from there as text
    comes, so everything above it is final."""
    for token in reversed(GFM.parse(text)):
        if token.map is not None and token.level == 0:
            return token.map[0]
    return 0


@dataclass(frozen=True)
class NearView:
    """Lines of a scrolling container's content: those in view, and some above and below
    them."""

    scroller: Widget
    top: int
    bottom: int

    def reaches(self, widget: Widget) -> bool:
        lines = content_lines(widget, self.scroller)
        return lines is not None and lines[0] < self.bottom and lines[1] > self.top


def near_view(scroller: Widget, following: bool = False) -> NearView:
    """The lines of `scroller`'s content in view, and a view's height above and below them:
    scrolling a page at a time never comes upon a blank part.

    In view as scrolled now; or, for a view `following` the text down, at the end of the
    content, where it is going: a batch of text can outgrow the view by more than a view's
    height before the view has scrolled down to it.
    """
    top = scroller.scroll_y
    if following:
        top = max(top, scroller.max_scroll_y)
    height = scroller.scrollable_content_region.height
    return NearView(scroller, round(top) - height, round(top) + 2 * height)


def content_lines(widget: Widget, scroller: Widget) -> tuple[int, int] | None:
    """The lines of `scroller`'s content that `widget` covers; None when it is not laid
    out (hidden, or not yet placed).

    Summed from each widget's place in its parent, which no scroll changes. A widget's
    place on screen comes from the last layout, so between a scroll and the refresh
    after it (and a pass can run in between) it is where it was before the scroll: a
    pass that read it left the part scrolled to blank.
    """
    screen = scroller.screen
    top = 0
    height: int | None = None
    node = widget
    while node is not scroller:
        try:
            placed = screen.find_widget(node).virtual_region
        except NoWidget:
            return None
        if height is None:
            height = placed.height
        top += placed.y
        parent = node.parent
        if not isinstance(parent, Widget):
            return None
        if parent is not scroller:
            # A place is counted from inside the parent's padding and border.
            top += parent.styles.gutter.top
        node = parent
    return top, top + (height or 0)
