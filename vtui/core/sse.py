"""Server-sent events, decoded line by line as the WHATWG HTML standard describes them.

Our own, not httpx-sse: the OpenAI stream needs only `data:` events, the rules fit in
a screen, and a pure decoder lets the tests feed it the exact bytes a server sends.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SseEvent:
    data: str
    event: str = "message"
    id: str | None = None


class EventTooLarge(ValueError):
    """An event's data passed the decoder's bound."""


class SseDecoder:
    """Feed it the stream's lines (without their line ends); it hands back each event when
    the blank line that ends it arrives."""

    def __init__(self, max_event: int | None = None) -> None:
        self.max_event = max_event  # an event's data, in characters; None: no bound
        self._size = 0
        self._data: list[str] = []
        self._event = ""
        self._last_id: str | None = None
        self._first_line = True

    def feed(self, line: str) -> SseEvent | None:
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment, as servers send to keep a connection open
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._size += len(value) + 1
            if self.max_event is not None and self._size > self.max_event:
                raise EventTooLarge(f"one event of the stream passed {self.max_event:,} characters")
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._last_id = value
        # "retry" and unknown fields change nothing a client of a finite stream cares about.
        return None

    @property
    def incomplete(self) -> bool:
        """Whether an event has begun without the blank line that ends it. The standard drops
        such an event when the stream ends, so a cut-off last event is never taken for whole."""
        return bool(self._data)

    def _dispatch(self) -> SseEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SseEvent("\n".join(self._data), self._event or "message", self._last_id)
        self._data.clear()
        self._size = 0
        self._event = ""
        return event
