"""CPU spent reading and drawing the GPUs once a second, on the GPU screen.

    python -m bench.gpu_poll [--seconds S] [--gpus N] [--real]

Three headless runs of S seconds at 120x40, CPU time (all threads) per wall second:
  1. baseline: a bare Textual app showing one Static;
  2. vtui on the GPU screen with GPU polling off (interval 10^6 s): the rest of vtui;
  3. the same with GPU polling at 1 Hz.
The figure is 3 minus 2: what reading N GPUs (NVML, their containers, history) and
redrawing the GPU screen costs, in % of one core (target < 2 %), and the ratio 3 / 2.
--real reads this machine's GPUs through NVML instead of the demo's N simulated ones.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

SIZE = (120, 40)


async def cpu_per_second(app: Any, seconds: float, before: Any = None) -> float:
    async with app.run_test(size=SIZE) as pilot:
        if before is not None:
            await before(pilot)
        await asyncio.sleep(1.0)  # start-up is not what is measured
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        return (time.process_time() - cpu) / (time.perf_counter() - wall)


def bare_app() -> Any:
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("bare Textual app")

    return Bare()


def vtui_app(gpus: int, interval: float, real: bool) -> Any:
    from vtui.backends.registry import demo_backends
    from vtui.ui.app import VtuiApp

    backends = demo_backends(seed=7, gpu_count=gpus)
    if real:
        from vtui.backends.gpu.nvml import NvmlGpus

        backends.gpu = NvmlGpus()
    return VtuiApp(backends, live=True, gpu_interval=interval)


async def open_gpu_screen(pilot: Any) -> None:
    await pilot.app.switch_mode("gpu")


async def main(seconds: float, gpus: int, real: bool) -> None:
    base = await cpu_per_second(bare_app(), seconds)
    quiet = await cpu_per_second(vtui_app(gpus, 1e6, real), seconds, open_gpu_screen)
    polled_app = vtui_app(gpus, 1.0, real)
    polled = await cpu_per_second(polled_app, seconds, open_gpu_screen)
    snapshot = polled_app.gpu_snapshot
    source = polled_app.backends.gpu.label
    shown = len(snapshot.gpus) if snapshot else 0
    readings = polled_app.gpus_seen
    print(f"GPUs read: {shown} ({source}); readings: {readings} in ~{seconds + 1:.0f} s")
    if polled_app.gpu_error:
        print(f"GPU error: {polled_app.gpu_error}")
    print(f"bare Textual app:                 {base * 100:6.2f} % of one core")
    print(f"vtui GPU screen, no GPU polling:  {quiet * 100:6.2f} % of one core")
    print(f"vtui GPU screen, polling at 1 Hz: {polled * 100:6.2f} % of one core")
    cost = polled - quiet
    print(f"polling + drawing {shown} GPUs at 1 Hz: {cost * 100:.2f} % of one core (target < 2 %)")
    # An idle bare app costs next to nothing, so the ratio is against vtui not polling.
    print(f"ratio, vtui polling at 1 Hz / vtui not polling: {polled / quiet:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--gpus", type=int, default=8, choices=range(1, 9))
    parser.add_argument("--real", action="store_true", help="this machine's GPUs, through NVML")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.gpus, args.real))
