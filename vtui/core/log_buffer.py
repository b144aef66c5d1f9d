"""A container's log held in bounded memory, addressable by line number, filterable by
level and searchable, for a view that draws only the lines on screen.

Lines keep the number they arrived with (the first line ever is 0), so a search result or
a bookmark stays valid while old lines fall off the front of the ring.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable

from vtui.core.terminal_text import log_text

DEFAULT_CAP = 100_000  # lines; about 15-20 MB of vLLM log text
# What the ring holds at most, whatever the lines: a log of long lines keeps fewer of them.
DEFAULT_BYTE_CAP = 64 * 1024 * 1024
# One line at most: the rest of a longer one is cut, and the marker says how much.
MAX_LINE_BYTES = 16 * 1024
CUT_MARK = " \u2026[line cut by vtui: {dropped} more characters]"
LEVELS = ("ERROR", "WARNING", "INFO", "DEBUG")
# Filters, least to most selective: each shows its level and the ones above it.
FILTERS = ("all", "WARNING", "ERROR")

_LEVEL = re.compile(r"\b(ERROR|CRITICAL|WARNING|WARN|INFO|DEBUG)\b")
# Real vLLM prefixes each line of its processes: "(APIServer pid=616) ", "(EngineCore pid=2329) ".
PROCESS_PREFIX = r"(?:\([\w-]+ pid=\d+\) )?"
_ERROR_TEXT = re.compile(
    rf"^{PROCESS_PREFIX}(?:Traceback \(most recent call last\)|\S*(?:Error|Exception): )"
)


def level_of(line: str) -> str | None:
    """vLLM's level word ("(EngineCore pid=1) ERROR 11-19 ..." or "ERROR:    ..."), or
    ERROR for a traceback and an exception line that carry none."""
    m = _LEVEL.search(line[:80])
    if m:
        word = m.group(1)
        return {"CRITICAL": "ERROR", "WARN": "WARNING"}.get(word, word)
    return "ERROR" if _ERROR_TEXT.search(line) else None


def cut_line(line: str, *, forced: bool = False) -> str:
    """`line` within MAX_LINE_BYTES (counted as characters), marked where it was cut;
    `forced` marks a line its reader already cut, whose dropped length is unknown."""
    if len(line) <= MAX_LINE_BYTES and not forced:
        return line
    if forced and len(line) <= MAX_LINE_BYTES:
        return line + " \u2026[line cut by vtui]"
    return line[:MAX_LINE_BYTES] + CUT_MARK.format(dropped=f"{len(line) - MAX_LINE_BYTES:,}")


def held_line(text: str) -> str:
    """A log line as an engine hands it on: cut to MAX_LINE_BYTES, its controls shown."""
    return log_text(cut_line(text))


def _rank(level: str | None) -> int:
    return {"ERROR": 3, "WARNING": 2}.get(level or "", 1)


def passes(level: str | None, chosen: str) -> bool:
    return chosen == "all" or _rank(level) >= _rank(chosen)


class LogBuffer:
    """Lines as they came, at most `cap` of them and `byte_cap` of text (counted as
    characters). The engines hand lines on already cut and made visible (held_line)."""

    def __init__(self, cap: int = DEFAULT_CAP, byte_cap: int = DEFAULT_BYTE_CAP) -> None:
        self.cap = cap
        self.byte_cap = byte_cap
        self.held_bytes = 0
        self._lines: deque[str] = deque(maxlen=cap)
        self._levels: deque[str | None] = deque(maxlen=cap)
        self.first = 0  # number of the oldest line still held
        self.filter = "all"
        self._shown: deque[int] = deque()  # numbers of the lines the filter lets through

    @property
    def end(self) -> int:
        """One past the newest line's number (all lines ever appended)."""
        return self.first + len(self._lines)

    @property
    def dropped(self) -> int:
        return self.first

    @property
    def held(self) -> int:
        """Lines in memory, whatever the filter shows."""
        return len(self._lines)

    def extend(self, lines: Iterable[str]) -> None:
        for line in lines:
            level = level_of(line)
            if len(self._lines) == self.cap:
                self._drop_oldest()
            while self._lines and self.held_bytes + len(line) > self.byte_cap:
                self._drop_oldest()
            self._lines.append(line)
            self._levels.append(level)
            self.held_bytes += len(line)
            if self.filter != "all" and passes(level, self.filter):
                self._shown.append(self.end - 1)
        while self._shown and self._shown[0] < self.first:
            self._shown.popleft()

    def _drop_oldest(self) -> None:
        self.held_bytes -= len(self._lines.popleft())
        self._levels.popleft()
        self.first += 1

    def clear(self) -> None:
        self.first = self.end
        self.held_bytes = 0
        self._lines.clear()
        self._levels.clear()
        self._shown.clear()

    def line(self, number: int) -> str:
        return self._lines[number - self.first]

    def level(self, number: int) -> str | None:
        return self._levels[number - self.first]

    def set_filter(self, chosen: str) -> None:
        self.filter = chosen
        self._shown = deque(
            self.first + i for i, level in enumerate(self._levels) if passes(level, chosen)
        )

    # The view: rows 0..rows-1 are the lines the filter lets through, oldest first.
    @property
    def rows(self) -> int:
        return len(self._lines) if self.filter == "all" else len(self._shown)

    def number_at(self, row: int) -> int:
        return self.first + row if self.filter == "all" else self._shown[row]

    def row_of(self, number: int) -> int | None:
        if self.filter == "all":
            return number - self.first if self.first <= number < self.end else None
        for row, shown in enumerate(self._shown):  # filtered views are short
            if shown == number:
                return row
        return None

    def find(self, needle: str, after: int | None, backwards: bool = False) -> int | None:
        """The number of the next line (in the view) holding `needle`, case-insensitive,
        after (or before) line `after`; wraps around once."""
        if not needle or self.rows == 0:
            return None
        low = needle.lower()
        rows = self.rows
        start = self.row_of(after) if after is not None else None
        if start is None:
            start = rows - 1 if not backwards else 0
        step = -1 if backwards else 1
        for k in range(1, rows + 1):
            row = (start + step * k) % rows
            number = self.number_at(row)
            if low in self.line(number).lower():
                return number
        return None

    def first_error(self) -> int | None:
        for i, level in enumerate(self._levels):
            if level == "ERROR":
                return self.first + i
        return None

    def text(self) -> str:
        return "\n".join(self._lines) + ("\n" if self._lines else "")
