"""A container's log, drawn line by line from a LogBuffer: only the rows on screen are
rendered, so a million lines cost no more to show than fifty.

Follows the end while following is on; scrolling up pauses it (and says how many lines came
since); the level filter, search and the first error move the view, never the buffer.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from vtui.core.log_buffer import FILTERS, LogBuffer

_LEVEL_STYLES = {
    "ERROR": Style(color="red", bold=True),
    "WARNING": Style(color="yellow"),
    "DEBUG": Style(dim=True),
}
_MARK = Style(reverse=True)


class LogView(ScrollView, can_focus=True):
    following: reactive[bool] = reactive(True)

    def __init__(self, buffer: LogBuffer | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer = buffer or LogBuffer()
        self.needle = ""
        self.marked: int | None = None  # the line number the last search or jump found
        self.unseen = 0  # lines that came while following was off
        self._widest = 0

    # Feeding it -------------------------------------------------------------------------
    def append(self, lines: list[str]) -> None:
        if not lines:
            return
        self.buffer.extend(lines)
        self._widest = max(self._widest, max(len(line) for line in lines))
        if not self.following:
            self.unseen += len(lines)
        self._resize()
        if self.following:
            self._to_end()

    def _to_end(self) -> None:
        # After the next layout too: the new virtual size only counts once laid out.
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    def on_resize(self) -> None:
        if self.following:
            self._to_end()

    def replace(self, lines: list[str]) -> None:
        self.buffer.clear()
        self._widest = 0
        self.marked = None
        self.append(lines)

    def _resize(self) -> None:
        self.virtual_size = Size(self._widest, self.buffer.rows)
        self.refresh()

    # Moving the view --------------------------------------------------------------------
    def set_filter(self, chosen: str) -> None:
        self.buffer.set_filter(chosen)
        self._resize()
        if self.following:
            self._to_end()

    def next_filter(self) -> str:
        chosen = FILTERS[(FILTERS.index(self.buffer.filter) + 1) % len(FILTERS)]
        self.set_filter(chosen)
        return chosen

    def follow(self, on: bool) -> None:
        self.following = on
        self.marked = None
        if on:
            self.unseen = 0
            self._to_end()

    def show_line(self, number: int) -> bool:
        """Scroll so the line is on screen (centred) and mark it; pauses following."""
        row = self.buffer.row_of(number)
        if row is None:
            return False
        self.following = False
        self.marked = number
        self.scroll_to(y=max(0, row - self.size.height // 2), animate=False, immediate=True)
        self.refresh()
        return True

    def search(self, needle: str, backwards: bool = False) -> int | None:
        self.needle = needle
        found = self.buffer.find(needle, self.marked, backwards)
        if found is not None:
            self.show_line(found)
        return found

    def first_error(self) -> int | None:
        found = self.buffer.first_error()
        if found is not None and self.buffer.row_of(found) is None:
            self.set_filter("all")  # the filter hid it
        if found is not None:
            self.show_line(found)
        return found

    # Scrolling up by hand pauses following (layout clamping the scroll does not); End
    # resumes it.
    def action_scroll_up(self) -> None:
        self.follow(False)
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self.follow(False)
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self.follow(False)
        super().action_scroll_home()

    def action_scroll_end(self) -> None:
        self.follow(True)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.follow(False)
        super()._on_mouse_scroll_up(event)

    # Drawing ----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        top = int(self.scroll_offset.y)
        if self.following:
            # Anchored to the end whatever the scroll says: a scroll asked for before the
            # layout settled may not have landed yet.
            end = max(0, self.buffer.rows - self.scrollable_content_region.height)
            if top != end:
                top = end
                self.call_after_refresh(self.scroll_end, animate=False, immediate=True)
        row = top + y
        width = self.size.width
        if row >= self.buffer.rows:
            return Strip.blank(width)
        number = self.buffer.number_at(row)
        text = self.buffer.line(number).expandtabs(4)
        style = _LEVEL_STYLES.get(self.buffer.level(number) or "", Style())
        if number == self.marked:
            style += _MARK
        segments = [Segment(text, style)]
        if self.needle and number != self.marked:
            segments = _highlight(text, self.needle, style)
        x = int(self.scroll_offset.x)
        return Strip(segments).crop(x, x + width).extend_cell_length(width)


def _highlight(text: str, needle: str, style: Style) -> list[Segment]:
    low, lowneedle = text.lower(), needle.lower()
    out: list[Segment] = []
    at = 0
    while (hit := low.find(lowneedle, at)) >= 0:
        out += [Segment(text[at:hit], style), Segment(text[hit : hit + len(needle)], style + _MARK)]
        at = hit + len(needle)
    out.append(Segment(text[at:], style))
    return out
