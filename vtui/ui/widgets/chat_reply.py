"""One assistant reply in the chat: its reasoning (folded away), its answer as Markdown that
grows as it streams, and a line of figures or an error under it.

Each reply is its own widget with its own MarkdownStream, so a new token re-parses only the
last block of this reply, never the conversation above it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Markdown, Static
from textual.widgets._markdown import MarkdownStream

from vtui.core.chat_errors import Explained
from vtui.core.chat_stream import AnswerDelta, ReasoningDelta, ReplyStats, TextDelta

# Characters of a reply drawn per turn of the event loop when a stream outruns the screen.
SHOW_AT_ONCE = 1_500


class ReplyView(Vertical):
    can_focus = True

    def __init__(self) -> None:
        super().__init__(classes="chat-assistant")
        self.answer_text = ""
        self.reasoning_text = ""
        # Pieces the stream has delivered and the screen has not shown yet.
        self.pending: list[TextDelta] = []
        self._answer: MarkdownStream | None = None
        self._reasoning: MarkdownStream | None = None

    def compose(self) -> ComposeResult:
        # Hidden from the start, not in on_mount: the first piece may arrive before it runs.
        reasoning = Collapsible(
            Markdown(classes="chat-reasoning-text"),
            title="Thinking\u2026",
            collapsed=False,
            classes="chat-reasoning",
        )
        stats, error = Static(classes="chat-stats"), Static(classes="chat-error")
        for hidden in (reasoning, stats, error):
            hidden.display = False
        yield reasoning
        yield Markdown(classes="chat-answer")
        yield Static("\u2026", classes="chat-waiting")
        yield stats
        yield error

    async def show_pending(self) -> bool:
        """Show what has come since the last call, joined into one write per run of reasoning
        or answer, at most SHOW_AT_ONCE characters of it: a fast stream's backlog is drawn
        over several turns of the event loop, with keys answered between them. True when
        some is left for the next call."""
        runs, self.pending = join_runs(self.pending), []
        budget = SHOW_AT_ONCE
        for at, run in enumerate(runs):
            if budget <= 0 or len(run.text) > budget:
                now, later = run.text[:budget], run.text[budget:]
                # Ahead of what the stream added while this method awaited.
                self.pending[:0] = [type(run)(later), *runs[at + 1 :]]
                if now:
                    await self.show(type(run)(now))
                return True
            budget -= len(run.text)
            await self.show(run)
        return False

    async def show(self, piece: TextDelta) -> None:
        waiting = self.query_one(".chat-waiting")
        if waiting.display:
            waiting.display = False
        if isinstance(piece, AnswerDelta):
            if self._answer is None:
                self._fold_reasoning()
                self._answer = Markdown.get_stream(self.query_one(".chat-answer", Markdown))
            self.answer_text += piece.text
            await self._answer.write(piece.text)
        else:
            if self._reasoning is None:
                self.query_one(".chat-reasoning").display = True
                markdown = self.query_one(".chat-reasoning-text", Markdown)
                self._reasoning = Markdown.get_stream(markdown)
            self.reasoning_text += piece.text
            await self._reasoning.write(piece.text)

    def _fold_reasoning(self) -> None:
        # Once the answer begins, the thought folds away; a click or Enter opens it again.
        if self.reasoning_text:
            block = self.query_one(".chat-reasoning", Collapsible)
            block.title = "Reasoning"
            block.collapsed = True

    async def end(self, stats: ReplyStats | None, problem: Explained | None) -> None:
        """The reply is over: flush what the streams still hold, then say how it went."""
        for stream in (self._reasoning, self._answer):
            if stream is not None:
                await stream.stop()
        self._fold_reasoning()
        self.query_one(".chat-waiting").display = False
        if stats is not None:
            line = self.query_one(".chat-stats", Static)
            line.update(stats.line())
            line.display = True
        if problem is not None:
            box = self.query_one(".chat-error", Static)
            box.update(problem.text())
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
