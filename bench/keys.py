"""Timing keys in a running app, as the benchmarks measure them: each key is sent as the
terminal driver sends it and timed until what it moves has moved and the frame is drawn."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def next_frame(app: Any) -> None:
    drawn = asyncio.Event()
    app.call_after_refresh(drawn.set)
    await drawn.wait()


async def key_latencies(
    app: Any, keys: Sequence[str], position: Callable[[], object], pace: float
) -> list[float]:
    """Seconds per key until `position()` changed and the next frame is drawn; `pace`
    seconds between keys (a person's pace, not a key-repeat storm)."""
    from textual import events

    latencies = []
    for key in keys:
        before = position()
        started = time.perf_counter()
        app._driver.send_message(events.Key(key, None))
        while position() == before:
            await asyncio.sleep(0.001)
        await next_frame(app)
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(pace)
    return latencies
