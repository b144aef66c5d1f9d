"""The log viewer: ingest rate, key latency under a busy log, and memory after 1M lines.

    python -m bench.logs [--lines N]

Lines are vLLM's own (the simulator's start-up plus request log lines, numbered so none
repeat). Baseline, same run: Textual's built-in Log widget fed the same lines.
  1. ingest: lines/s appended into LogView in batches of 1,000 (as the follower delivers
     them) until the last frame is drawn, the event loop free between batches to draw at
     its own rate; then with a frame forced after every batch (the worst case); the same
     for Log.
  2. key latency: while 10,000 lines/s arrive, the time from a key (sent as the terminal
     driver sends it) until the view has scrolled and the frame is drawn.
  3. memory: RSS growth after 1,000,000 lines into the ring (cap 100,000 lines).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bench.keys import key_latencies, next_frame, percentile

BATCH = 1_000


def vllm_lines() -> Iterator[str]:
    from vtui.sim.catalogue import find
    from vtui.sim.vllm_script import SimServerConfig, render, startup_steps

    config = SimServerConfig("Qwen/Qwen3-8B", "Qwen/Qwen3-8B", find("Qwen/Qwen3-8B"))
    start = [text for _, text in render(startup_steps(config), datetime(2026, 1, 1), 30.0)]
    yield from start
    i = 0
    while True:
        i += 1
        yield (f"(APIServer pid=1) INFO:     127.0.0.1:{40000 + i % 20000} - \"POST "
               f"/v1/chat/completions HTTP/1.1\" 200 OK")  # fmt: skip
        if i % 10 == 0:
            yield (f"(APIServer pid=1) INFO 01-01 10:00:{i % 60:02d} [loggers.py:123] Engine 000: "
                   f"Avg prompt throughput: {i % 997}.0 tokens/s, Avg generation throughput: "
                   f"{i % 1999}.0 tokens/s, Running: {i % 64} reqs, Waiting: 0 reqs, GPU KV "
                   f"cache usage: {i % 100}.0%, Prefix cache hit rate: 41.2%")  # fmt: skip


def take(source: Iterator[str], n: int) -> list[str]:
    return [next(source) for _ in range(n)]


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def ingest(widget_kind: str, lines: list[str], frame_per_batch: bool) -> float:
    from textual.app import App, ComposeResult
    from textual.widgets import Log

    from vtui.ui.widgets.log_view import LogView

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield LogView() if widget_kind == "LogView" else Log(max_lines=100_000)

    app = One()
    async with app.run_test(size=(120, 40)) as pilot:
        widget: Any = app.query_one(LogView if widget_kind == "LogView" else Log)
        started = time.perf_counter()
        for at in range(0, len(lines), BATCH):
            batch = lines[at : at + BATCH]
            if widget_kind == "LogView":
                widget.append(batch)
            else:
                widget.write_lines(batch)
            if frame_per_batch:  # the worst case: every batch waits for its own frame
                await pilot.pause()
            else:  # the loop may draw between batches, at its own frame rate, as in the app
                await asyncio.sleep(0)
        await pilot.pause()
        await next_frame(app)
        return len(lines) / (time.perf_counter() - started)


async def latency_under_load(lines_per_second: int, presses: int) -> list[float]:
    from textual.app import App, ComposeResult

    from vtui.ui.widgets.log_view import LogView

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield LogView()

    source = vllm_lines()
    app = One()
    async with app.run_test(size=(120, 40)):
        view = app.query_one(LogView)
        view.focus()
        view.append(take(source, 5_000))
        stop = False

        async def feed() -> None:
            tick = 0.05
            while not stop:
                view.append(take(source, int(lines_per_second * tick)))
                await asyncio.sleep(tick)

        feeder = asyncio.create_task(feed())
        await asyncio.sleep(0.5)
        keys = ["up" if i % 2 == 0 else "pageup" for i in range(presses)]
        latencies = await key_latencies(app, keys, lambda: view.scroll_y, pace=0.03)
        stop = True
        await feeder
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000, help="lines for the ingest run")
    parser.add_argument("--presses", type=int, default=40)
    args = parser.parse_args()
    lines = take(vllm_lines(), args.lines)
    for frame_per_batch, how in ((False, "the loop drawing at its own rate"),
                                 (True, "a frame forced after every batch")):  # fmt: skip
        ours = asyncio.run(ingest("LogView", lines, frame_per_batch))
        theirs = asyncio.run(ingest("Log", lines, frame_per_batch))
        print(f"ingest, {args.lines:,} vLLM lines in batches of {BATCH:,}, {how}:")
        print(f"  vtui LogView:        {ours:>12,.0f} lines/s")
        print(f"  Textual Log (base):  {theirs:>12,.0f} lines/s")
        print(f"  ratio LogView / Log: {ours / theirs:.2f}   (target >= 50,000 lines/s: "
              f"{'met' if ours >= 50_000 else 'MISSED'})")  # fmt: skip

    ms = [v * 1000 for v in asyncio.run(latency_under_load(10_000, args.presses))]
    p95 = percentile(ms, 0.95)
    print(f"key latency while 10,000 lines/s arrive: median {statistics.median(ms):.1f} ms, "
          f"p95 {p95:.1f} ms, max {max(ms):.1f} ms over {len(ms)} keys "
          f"(target <= 50 ms: {'met' if p95 <= 50 else 'MISSED'})")  # fmt: skip

    from vtui.core.log_buffer import DEFAULT_CAP, LogBuffer

    source = vllm_lines()
    before = rss_mib()
    buffer = LogBuffer()
    checkpoints = {}
    for done in range(100_000, 1_000_001, 100_000):
        buffer.extend(take(source, 100_000))
        checkpoints[done] = rss_mib() - before
    print(f"memory: ring cap {DEFAULT_CAP:,} lines; RSS growth after "
          + ", ".join(f"{n // 1000}k: {mib:.0f} MiB" for n, mib in checkpoints.items()
                      if n in (100_000, 500_000, 1_000_000)))  # fmt: skip
    print(
        f"  held {buffer.rows:,} lines, dropped {buffer.dropped:,}; growth from 100k to 1M "
        f"lines: {checkpoints[1_000_000] - checkpoints[100_000]:+.0f} MiB"
    )


if __name__ == "__main__":
    main()
