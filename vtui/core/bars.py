"""Text bars for figures that fill up: memory, utilisation."""

from __future__ import annotations

FULL, EMPTY = "\u2588", "\u2591"


def bar(fraction: float | None, width: int = 20) -> str:
    if fraction is None:
        return "N/A".center(width)
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return FULL * filled + EMPTY * (width - filled)


SPARKS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"


def sparkline(values: list[float | None], width: int) -> str:
    """The last `width` fractions (0..1) as block heights, newest on the right; a gap where
    there was no reading, blank on the left before the first."""
    shown = values[-width:] if width > 0 else []
    cells = [
        " " if v is None else SPARKS[min(len(SPARKS) - 1, max(0, round(v * (len(SPARKS) - 1))))]
        for v in shown
    ]
    return " " * (width - len(cells)) + "".join(cells)


def split_cells(parts: tuple[int, ...], total: int, width: int) -> tuple[int, ...]:
    """How many of `width` cells each part of `total` gets: every non-zero part at least one,
    and the cells always add up to `width` (largest remainders get the spare cells)."""
    if total <= 0 or width <= 0:
        return tuple(0 for _ in parts)
    exact = [p * width / total for p in parts]
    cells = [int(e) for e in exact]
    for i in sorted(range(len(parts)), key=lambda i: exact[i] - cells[i], reverse=True):
        if sum(cells) >= width:
            break
        cells[i] += 1
    for i, p in enumerate(parts):  # a sliver of memory still shows
        if p > 0 and cells[i] == 0:
            biggest = max(range(len(cells)), key=lambda j: cells[j])
            if cells[biggest] > 1:
                cells[biggest] -= 1
                cells[i] = 1
    return tuple(cells)
