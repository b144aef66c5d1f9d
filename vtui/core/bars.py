"""Text bars for figures that fill up: memory, utilisation."""

from __future__ import annotations

FULL, EMPTY = "\u2588", "\u2591"


def bar(fraction: float | None, width: int = 20) -> str:
    if fraction is None:
        return "N/A".center(width)
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return FULL * filled + EMPTY * (width - filled)
