"""A clock for runs that must come out the same every time (screenshots, tests)."""

from __future__ import annotations


class TickingClock:
    """Moves a fixed step each time it is read, so timings measured with it (the chat's
    time to first token and tokens/s) do not depend on how fast the machine is."""

    def __init__(self, step: float = 0.025, now: float = 0.0) -> None:
        self.step, self.now = step, now

    def __call__(self) -> float:
        self.now += self.step
        return self.now
