"""Download throughput: `vtui download` against `hf download`, the same repo from the same
loopback Hub in the same run (the issue's target: ratio >= 0.95).

    python -m bench.download [--mib N] [--runs R]

The repo holds a config.json and two safetensors shards of N MiB each (random bytes), all
of which both tools fetch. Each tool runs as a user runs it, a fresh process into an empty
cache, R times, alternating; the figure is the median wall time, start-up included.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.hub_server import TINY, TINY_FILES, hub_server


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256, help="size of each shard (default 256)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    hf = shutil.which("hf") or str(Path(sys.executable).with_name("hf"))
    block = random.Random(7).randbytes(1024 * 1024)
    shard = b"".join(block[i:] + block[:i] for i in range(args.mib))
    files = {
        "config.json": TINY_FILES["config.json"],
        "model-00001-of-00002.safetensors": shard,
        "model-00002-of-00002.safetensors": shard[::-1],
    }
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
    vtui_s, hf_s = statistics.median(times["vtui"]), statistics.median(times["hf"])
    print(f"repo: {len(files)} files, {total / 1e6:.0f} MB; median of {args.runs} runs each")
    print(f"vtui download: {vtui_s:.2f} s  ({total / vtui_s / 1e6:.0f} MB/s)")
    print(f"hf download:   {hf_s:.2f} s  ({total / hf_s / 1e6:.0f} MB/s)  baseline")
    print(f"throughput ratio vtui / hf: {hf_s / vtui_s:.2f} (target >= 0.95)")


if __name__ == "__main__":
    main()
