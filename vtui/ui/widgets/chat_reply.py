"""One assistant reply in the chat: its reasoning (folded away), its answer as Markdown that
grows as it streams, and a line of figures or an error under it.

Each reply is its own widget, and its text a LongMarkdown, so a new token re-parses only the
last block of this reply and lays out only the part of it near the view.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widget import MountError, Widget
from textual.widgets import Collapsible, Static

from vtui.core.chat_errors import Explained
from vtui.core.chat_stream import (
    AnswerDelta,
    AnswerWasThought,
    ReasoningDelta,
    ReplyStats,
    TextDelta,
    thought_moved,
)
from vtui.core.terminal_text import visible
from vtui.ui.keys_seen import KeysSeen
from vtui.ui.widgets.long_markdown import LongMarkdown, NearView, near_view

# Characters of a reply drawn per frame when a stream outruns the screen. A frame (layout,
# paint, the keys typed meanwhile) comes between batches, so a key waits one batch at most:
# a small one while the user types; else a big one, for fewer frames to draw the backlog in.
SHOW_AT_ONCE = 4_000
SHOW_WHILE_TYPING = 400
# Batches are drawn at most this often: a stream of a few tokens a frame would otherwise
# take every frame the screen can draw (vtui allows 120 a second, see ui/frame_rate.py).
DRAW_EVERY_S = 1 / 60
# While the user types, at most this often. A frame with new text lays the whole screen out
# (15-40 ms on a 2-core machine) and a key typed during it waits for it. The frames between
# are the keys' own, and the reply still moves ten times a second.
DRAW_EVERY_WHILE_TYPING_S = 0.1


class ReplyView(Vertical):
    """Draws in its own task, a batch a frame, so the screen lays out and paints (and the
    input echoes keys) between batches, not after a whole backlog."""

    can_focus = True

    class Draw(Message, bubble=False):
        """Text is waiting in `pending`: draw a batch of it."""

    class Grew(Message):
        """A batch was drawn: the screen follows it down, and once the reply has nothing
        more to draw (`settled`), folds what scrolled away."""

        def __init__(self, settled: bool) -> None:
            super().__init__()
            self.settled = settled

    def __init__(
        self, keys: KeysSeen | None = None, following: Callable[[], bool] | None = None
    ) -> None:
        super().__init__(classes="chat-assistant")
        self._keys = keys or KeysSeen()
        # Whether the view scrolls down with the reply as it grows (see NearView).
        self._following = following or (lambda: False)
        self._drawn_at = self._keys.now()
        self.answer_text = ""
        self.reasoning_text = ""
        # Pieces the stream has delivered and the screen has not shown yet.
        self.pending: list[TextDelta] = []
        # How the reply ended, kept until what came before the end is drawn.
        self.outcome: tuple[ReplyStats | None, Explained | None] | None = None
        self.ended = False
        # Taken off the screen by a new chat or a retry.
        self.withdrawn = False
        self._draw_asked = False
        self._reasoning = LongMarkdown(classes="chat-reasoning-text")
        self._answer = LongMarkdown(classes="chat-answer")

    def compose(self) -> ComposeResult:
        # Hidden from the start, not in on_mount: the first piece may arrive before it runs.
        reasoning = Collapsible(
            self._reasoning,
            title="Thinking\u2026",
            collapsed=False,
            classes="chat-reasoning",
        )
        stats, error = Static(classes="chat-stats"), Static(classes="chat-error")
        for hidden in (reasoning, stats, error):
            hidden.display = False
        yield reasoning
        yield self._answer
        yield Static("\u2026", classes="chat-waiting")
        yield stats
        yield error

    def add(self, pieces: list[TextDelta]) -> None:
        """Text from the stream, drawn soon; however many pieces come before the next batch
        is drawn, they are one Draw."""
        if not pieces:
            return
        self.pending.extend(pieces)
        self._ask_to_draw()

    def finish_when_drawn(self, stats: ReplyStats | None, problem: Explained | None) -> None:
        """The reply is over: say so under it once the text that came before is drawn."""
        self.outcome = (stats, problem)
        self._ask_to_draw()

    def _ask_to_draw(self, after_next_frame: bool = False) -> None:
        if self._draw_asked:
            return
        self._draw_asked = True
        if after_next_frame:
            self.call_after_refresh(self.post_message, self.Draw())
        else:
            self.post_message(self.Draw())

    async def on_reply_view_draw(self, _message: Draw) -> None:
        self._draw_asked = False
        if self.ended:
            return
        every = DRAW_EVERY_WHILE_TYPING_S if self._keys.typing else DRAW_EVERY_S
        wait = self._drawn_at + every - self._keys.now()
        if wait > 0:
            self._draw_asked = True
            # asyncio's timer, not Textual's: a Textual timer whose delay has passed by the
            # time its task first runs never fires (its skip rule counts the one tick as
            # missed), and with that Draw lost the reply would stop for good. A wait of a few
            # microseconds, when a Draw comes just before its time, did that.
            asyncio.get_running_loop().call_later(wait, self._draw_when_due)
            return
        self._drawn_at = self._keys.now()
        try:
            with self.app.batch_update():
                # What the last frame measured is folded and pinned here, so that one layout
                # (the next frame's) takes both the folds and the new text.
                if isinstance(self.parent, Widget):
                    await self.refold(near_view(self.parent, self._following()))
                await self.show_pending()
        except MountError:
            # Taken off the screen halfway through a batch (a new chat, the app quitting or
            # shutting down): the blocks it was adding have nowhere to go, and nothing is
            # lost with them. Textual marks a widget being removed (_pruning) before it is
            # detached, and an app shutting down stops running before it removes anything.
            going = self.withdrawn or self._pruning or not self.app.is_running
            if self.is_attached and not going:
                raise
            return
        if self.pending:
            # The rest (and what came while drawing) after the next frame, which also
            # answers the keys typed meanwhile.
            self._ask_to_draw(after_next_frame=True)
        elif self.outcome is not None:
            await self.end(*self.outcome)
        self.post_message(self.Grew(settled=not self.pending))

    def _draw_when_due(self) -> None:
        self._draw_asked = False
        self._ask_to_draw()

    def withdraw(self) -> None:
        """Draw nothing more: the reply is about to be taken off the screen."""
        self.withdrawn = self.ended = True
        self.pending = []

    async def show_pending(self) -> None:
        """Show what has come since the last call, joined into one write per run of reasoning
        or answer, at most SHOW_AT_ONCE characters of it (SHOW_WHILE_TYPING while the user
        types): a fast stream's backlog is drawn over several frames, with keys answered
        between them. The rest stays pending."""
        runs, self.pending = join_runs(self.pending), []
        budget = SHOW_WHILE_TYPING if self._keys.typing else SHOW_AT_ONCE
        for at, run in enumerate(runs):
            if budget <= 0 or len(run.text) > budget:
                now, later = run.text[:budget], run.text[budget:]
                # Ahead of what the stream added while this method awaited.
                self.pending[:0] = [type(run)(later), *runs[at + 1 :]]
                if now:
                    await self.show(type(run)(now))
                return
            budget -= len(run.text)
            await self.show(run)

    async def show(self, piece: TextDelta) -> None:
        waiting = self.query_one(".chat-waiting")
        if waiting.display:
            waiting.display = False
        if isinstance(piece, AnswerDelta):
            if not self.answer_text:
                self._fold_reasoning()
            self.answer_text += piece.text
            # The model's text is drawn with its control characters shown, never obeyed.
            await self._answer.append(visible(piece.text, newlines=True))
        elif isinstance(piece, AnswerWasThought):
            moved, self.answer_text = thought_moved(self.answer_text), ""
            await self._answer.clear()
            await self._think(moved)
        else:
            await self._think(piece.text)

    async def _think(self, text: str) -> None:
        if not text:
            return
        if not self.reasoning_text:
            self.query_one(".chat-reasoning").display = True
        self.reasoning_text += text
        await self._reasoning.append(visible(text, newlines=True))

    async def refold(self, near: NearView) -> bool:
        """Fold the finished parts of this reply that are outside `near`; False when
        another pass should follow the next frame (see LongMarkdown.refold)."""
        reasoning = await self._reasoning.refold(near)
        answer = await self._answer.refold(near)
        return reasoning and answer

    def _fold_reasoning(self) -> None:
        # Once the answer begins, the thought folds away; a click or Enter opens it again.
        if self.reasoning_text:
            block = self.query_one(".chat-reasoning", Collapsible)
            block.title = "Reasoning"
            block.collapsed = True

    async def end(self, stats: ReplyStats | None, problem: Explained | None) -> None:
        """The reply is over: say how it went."""
        self.ended = True
        self._reasoning.finish()
        self._answer.finish()
        self._fold_reasoning()
        self.query_one(".chat-waiting").display = False
        if stats is not None:
            line = self.query_one(".chat-stats", Static)
            line.update(stats.line())
            line.display = True
        if problem is not None:
            box = self.query_one(".chat-error", Static)
            box.update(Text(problem.text()))  # the server's words: never read as markup
            box.display = True
            self.add_class("failed")


def join_runs(pieces: list[TextDelta]) -> list[TextDelta]:
    """Neighbouring pieces of the same kind as one piece."""
    joined: list[TextDelta] = []
    for piece in pieces:
        last = joined[-1] if joined else None
        if isinstance(piece, AnswerDelta) and isinstance(last, AnswerDelta):
            joined[-1] = AnswerDelta(last.text + piece.text)
        elif isinstance(piece, ReasoningDelta) and isinstance(last, ReasoningDelta):
            joined[-1] = ReasoningDelta(last.text + piece.text)
        else:
            joined.append(piece)
    return joined
