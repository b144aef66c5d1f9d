"""When the user last pressed a key.

A reply streaming faster than the screen draws has a backlog, drawn a batch a frame. Big
batches draw it in fewer frames (every frame lays out the whole screen, whatever changed),
small ones let a key typed meanwhile show within one small batch. So the batch is small
only while the user is typing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# A pause between keys longer than this ends the typing.
TYPING_WINDOW_S = 0.5


class KeysSeen:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_at: float | None = None

    def pressed(self) -> None:
        self._last_at = self._clock()

    def sent(self) -> None:
        """What was typed went off (Enter): the user reads the reply now, and a reply that
        starts within the typing window is drawn at full pace from its first batch."""
        self._last_at = None

    def now(self) -> float:
        return self._clock()

    @property
    def typing(self) -> bool:
        return self._last_at is not None and self._clock() - self._last_at < TYPING_WINDOW_S
