"""A download killed mid-file, then run again: how many bytes each tool fetches twice.
`vtui download` against `hf download` (huggingface_hub's own downloader, the baseline), the
same repo from the same loopback Hub in the same run.

    python -m bench.download_resume [--mib N] [--runs R]

Each run starts the tool as a fresh process into an empty cache, SIGKILLs it once the Hub
has sent half of the first shard, runs it again to the end, and counts what the Hub sent
in all. Refetched = sent - the repo's size. The Hub is slowed to 200 MB/s so the kill lands
mid-file; both tools get the same pace. The figure is the median over R runs, and the
files are checked against their sha256 at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.download import repo_files
from tests.support.hub_server import TINY, hub_server

SHARD = "model-00001-of-00002.safetensors"
PACE = 200e6  # bytes a second


def command(tool: str, cache: Path) -> list[str]:
    if tool == "vtui":
        return [sys.executable, "-m", "vtui", "download", TINY]
    hf = shutil.which("hf") or str(Path(sys.executable).with_name("hf"))
    return [hf, "download", TINY, "--cache-dir", str(cache)]


def one_run(tool: str, cache: Path, hub_url: str, sent: dict[str, int], size: int) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env |= {"HF_ENDPOINT": hub_url, "HF_HUB_CACHE": str(cache), "HF_HOME": str(cache),
            "HF_HUB_DISABLE_PROGRESS_BARS": "1"}  # fmt: skip
    before = sum(sent.values())
    first = subprocess.Popen(command(tool, cache), env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while sent.get(SHARD, 0) < size // 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait()
    subprocess.run(command(tool, cache), env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # fmt: skip
    return sum(sent.values()) - before


def whole(cache: Path, files: dict[str, bytes]) -> bool:
    snapshot = next(cache.glob("models--*/snapshots/*"))
    return all(
        hashlib.sha256((snapshot / name).read_bytes()).digest() == hashlib.sha256(body).digest()
        for name, body in files.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    files = repo_files(args.mib)
    total = sum(len(b) for b in files.values())
    refetched: dict[str, list[int]] = {"vtui": [], "hf": []}
    with hub_server() as hub, tempfile.TemporaryDirectory() as scratch:
        hub.files, hub.bytes_per_second = files, PACE
        for run in range(args.runs):
            for tool in ("vtui", "hf"):
                hub.bytes_sent.clear()
                cache = Path(scratch) / f"{tool}-{run}"
                sent = one_run(tool, cache, hub.url, hub.bytes_sent, len(files[SHARD]))
                assert whole(cache, files), f"{tool}: files do not match after the resume"
                refetched[tool].append(sent - total)
                shutil.rmtree(cache, ignore_errors=True)
    print(f"repo: {len(files)} files, {total / 1e6:.0f} MB; killed at half of {SHARD}")
    for tool, label in (("vtui", "vtui download"), ("hf", "hf download (baseline)")):
        mb = statistics.median(refetched[tool]) / 1e6
        print(f"{label}: {mb:.1f} MB fetched twice (median of {args.runs}; runs: "
              f"{', '.join(f'{v / 1e6:.1f}' for v in refetched[tool])} MB)")  # fmt: skip
    vtui_mb, hf_mb = (statistics.median(refetched[t]) for t in ("vtui", "hf"))
    print(f"refetched ratio vtui / hf: {vtui_mb / hf_mb:.2f}" if hf_mb else "hf refetched 0 B")


if __name__ == "__main__":
    main()
