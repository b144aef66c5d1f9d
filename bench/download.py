"""Downloads: throughput of `vtui download` against `hf download`, the same repo from the
same loopback Hub in the same run (target ratio >= 0.95), and the Models screen's key
latency while a download runs, against the same screen idle (target <= 50 ms).

    python -m bench.download [--mib N] [--runs R] [--presses P]

The repo holds a config.json and two safetensors shards of N MiB each (random bytes), all
of which both tools fetch. Each tool runs as a user runs it, a fresh process into an empty
cache, R times, alternating; the figure is the median wall time, start-up included.

Key latency: the app runs headless with the real Hub backend on the loopback Hub; P cursor
moves in the model list, each timed from the key press until the table's cursor has moved
and the screen has refreshed, first with nothing downloading (the baseline), then while the
download worker fetches the same repo (slowed to 100 MB/s so it outlasts the presses).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.keys import key_latencies, percentile
from tests.support.hub_server import TINY, TINY_FILES, hub_server


def repo_files(mib: int) -> dict[str, bytes]:
    block = random.Random(7).randbytes(1024 * 1024)
    shard = b"".join(block[i:] + block[:i] for i in range(mib))
    return {
        "config.json": TINY_FILES["config.json"],
        "model-00001-of-00002.safetensors": shard,
        "model-00002-of-00002.safetensors": shard[::-1],
    }


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


LATENCY_RUN_RATE = 100e6  # bytes/s: slow enough that the download outlasts the presses


async def press_latencies(app: Any, presses: int) -> list[float]:
    """Down and up in the model list, each timed until the cursor moved and is drawn."""
    table = app.screen.query_one("#models-table")
    keys = ["down" if i % 2 == 0 else "up" for i in range(presses)]
    return await key_latencies(app, keys, lambda: table.cursor_row, pace=0.02)


def key_latency(hub_url: str, presses: int) -> tuple[list[float], list[float], str]:
    from vtui.backends.hub.hf import HfHub
    from vtui.backends.registry import demo_backends
    from vtui.ui.app import VtuiApp
    from vtui.ui.headless import settle
    from vtui.ui.screens.models import ModelsScreen
    from vtui.ui.widgets.downloads import DownloadsPanel

    async def run() -> tuple[list[float], list[float], str]:
        backends = demo_backends()
        backends.hub = HfHub(hub_url)
        app = VtuiApp(backends, live=False)
        async with app.run_test(size=(120, 40)):
            await settle(app)
            idle = await press_latencies(app, presses)
            screen = app.screen
            assert isinstance(screen, ModelsScreen)
            screen.queue_download(TINY)  # what d does for the row under the cursor
            panel = app.screen.query_one(DownloadsPanel)
            while TINY not in panel.rows or panel.rows[TINY].progress is None:
                await asyncio.sleep(0.01)
            busy = await press_latencies(app, presses)
            state = panel.rows[TINY].state
            screen.action_stop_download()
            await settle(app)
        return idle, busy, state

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256, help="size of each shard (default 256)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--presses", type=int, default=60)
    args = parser.parse_args()
    hf = shutil.which("hf") or str(Path(sys.executable).with_name("hf"))
    files = repo_files(args.mib)
    total = sum(len(b) for b in files.values())
    times: dict[str, list[float]] = {"vtui": [], "hf": []}
    with hub_server() as hub, tempfile.TemporaryDirectory() as scratch:
        hub.files = files
        for run in range(args.runs):
            for tool in ("vtui", "hf"):
                cache = Path(scratch) / f"{tool}-{run}"
                env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
                env |= {"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(cache),
                        "HF_HOME": str(cache), "HF_HUB_DISABLE_PROGRESS_BARS": "1"}  # fmt: skip
                command = (
                    [sys.executable, "-m", "vtui", "download", TINY]
                    if tool == "vtui"
                    else [hf, "download", TINY, "--cache-dir", str(cache)]
                )
                times[tool].append(timed(command, env))
                shutil.rmtree(cache, ignore_errors=True)
    # The Hub for the latency run lives in its own process, as the real one would.
    serving = subprocess.Popen(
        [sys.executable, "-m", "bench.hub_process", str(args.mib), str(LATENCY_RUN_RATE)],
        # Its stderr would carry the broken pipe of the download stopped at the end.
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert serving.stdout is not None and serving.stdin is not None
    try:
        url = serving.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as latency_cache:
            os.environ["HF_HUB_CACHE"] = latency_cache
            idle, busy, state = key_latency(url, args.presses)
    finally:
        serving.stdin.close()
        serving.wait(10)
    vtui_s, hf_s = statistics.median(times["vtui"]), statistics.median(times["hf"])
    print(f"repo: {len(files)} files, {total / 1e6:.0f} MB; median of {args.runs} runs each")
    print(f"vtui download: {vtui_s:.2f} s  ({total / vtui_s / 1e6:.0f} MB/s)")
    print(f"hf download:   {hf_s:.2f} s  ({total / hf_s / 1e6:.0f} MB/s)  baseline")
    print(f"throughput ratio vtui / hf: {hf_s / vtui_s:.2f} (target >= 0.95)")
    ms = {name: [v * 1000 for v in values] for name, values in (("idle", idle), ("busy", busy))}
    for name, label in (("idle", "idle (baseline)"), ("busy", f"downloading ({state})")):
        print(f"key latency, {label}: median {statistics.median(ms[name]):.1f} ms, "
              f"p95 {percentile(ms[name], 0.95):.1f} ms, max {max(ms[name]):.1f} ms "
              f"over {len(ms[name])} presses")  # fmt: skip
    ratio = statistics.median(ms["busy"]) / statistics.median(ms["idle"])
    print(
        f"key latency ratio downloading / idle (median): {ratio:.2f}; "
        f"target p95 <= 50 ms: {'met' if percentile(ms['busy'], 0.95) <= 50 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
