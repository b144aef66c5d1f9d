"""Time from a screen key to the first frame that shows the new screen, for every screen of
`vtui --demo` at 120x40, cold (the screen's first visit, when it is built) and warm (every
later visit), beside a bare Textual app switching between two screens of Static widgets.

Each process runs on a real pseudo-terminal; vtui and the bare app alternate, so machine
noise falls on both alike. Prints median and p95 per screen, and the ratios.

    python bench/screens.py [--runs N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.startup import drain_terminal_run

COLD_TARGET_MS, WARM_TARGET_MS = 150, 50


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes per app (cold samples)")
    parser.add_argument("--rounds", type=int, default=4, help="warm visits per screen per run")
    args = parser.parse_args()
    samples: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for _ in range(args.runs):
        for which in ("bare", "vtui"):
            out = drain_terminal_run(["-m", "bench.screen_switch", which, "{fd}", str(args.rounds)])
            for line in out.splitlines():
                kind, name, took = line.split()
                samples[(which, kind, name)].append(float(took) * 1000)
    print(f"runs {args.runs} x rounds {args.rounds}, 120x40, {os.cpu_count()} CPUs")
    print(f"{'':14}{'cold median':>12}{'cold p95':>10}{'warm median':>13}{'warm p95':>10}")
    bare_cold = statistics.median(samples[("bare", "cold", "b")])
    bare_warm = statistics.median(samples[("bare", "warm", "a")] + samples[("bare", "warm", "b")])
    rows = [("bare app", "b")] + [
        (f"vtui {n}", n) for n in ("launch", "server", "gpu", "chat", "models")
    ]
    worst_cold = worst_warm = 0.0
    for label, name in rows:
        which = "bare" if label == "bare app" else "vtui"
        cold = samples.get((which, "cold", name), [])
        warm = samples.get((which, "warm", name), []) + (
            samples.get(("bare", "warm", "a"), []) if which == "bare" else []
        )
        cells = [
            f"{statistics.median(cold):.0f}" if cold else "-",
            f"{p95(cold):.0f}" if cold else "-",
            f"{statistics.median(warm):.0f}" if warm else "-",
            f"{p95(warm):.0f}" if warm else "-",
        ]
        if which == "vtui":
            worst_cold = max(worst_cold, statistics.median(cold) if cold else 0.0)
            worst_warm = max(worst_warm, statistics.median(warm) if warm else 0.0)
        print(f"{label:14}{cells[0]:>12}{cells[1]:>10}{cells[2]:>13}{cells[3]:>10}   ms")
    print(
        f"slowest vtui cold {worst_cold:.0f} ms = {worst_cold / bare_cold:.1f}x bare "
        f"(target <= {COLD_TARGET_MS} ms); slowest warm {worst_warm:.0f} ms = "
        f"{worst_warm / bare_warm:.1f}x bare (target <= {WARM_TARGET_MS} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
