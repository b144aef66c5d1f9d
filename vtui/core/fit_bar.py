"""A GPU's memory as one bar of cells: weights, activations and buffers, KV cache, and the
share vLLM leaves alone. Widths add up to the bar exactly (largest remainder)."""

from __future__ import annotations

from vtui.core.fit import Budget

PARTS = ("weights", "activations", "graphs", "kv", "reserve")


def part_sizes(budget: Budget) -> dict[str, int]:
    """Bytes per part; activations include the non-torch buffers."""
    return {
        "weights": budget.weights,
        "activations": budget.activation + budget.non_torch,
        "graphs": budget.cuda_graphs,
        "kv": max(0, budget.kv_cache),
        "reserve": max(0, budget.total - budget.requested),
    }


def segments(budget: Budget, width: int) -> list[tuple[str, int]]:
    """(part, cells) in PARTS order; parts over the GPU (when it does not fit) overflow
    the bar, so the bar's scale is then what was asked for, not the GPU."""
    sizes = part_sizes(budget)
    scale = max(budget.total, sum(sizes.values()))
    if scale <= 0 or width <= 0:
        return [(p, 0) for p in PARTS]
    exact = {p: sizes[p] * width / scale for p in PARTS}
    cells = {p: int(exact[p]) for p in PARTS}
    short = width - sum(cells.values())
    for part in sorted(PARTS, key=lambda p: exact[p] - cells[p], reverse=True)[:short]:
        cells[part] += 1
    return [(p, cells[p]) for p in PARTS]
