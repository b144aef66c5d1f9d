"""vtui's downloader on another host: run there in a helper container, with that host's HF
cache mounted, by backends/hub/remote_download.py. It plans or downloads exactly as vtui
does locally (the same resume, size and checksum rules, the same files) and prints what
happens as core/download_wire lines on stdout, which vtui reads back through the engine.

It needs only the image's Python with huggingface_hub and httpx (a vLLM image has both).

  python3 -m vtui.backends.hub.remote_worker plan|download REPO [--revision R]
      (--cache-dir DIR | --local-dir DIR)
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vtui.core.download_wire import dumps, plan_lines, progress_line

HEARTBEAT_S = 5.0  # a line at least this often, so the far end can tell silence from work
REPORT_EVERY_S = 0.5  # progress lines at most this often: they fill the container's log
EXIT_FAILED, EXIT_CANCELLED = 3, 130


class _Out:
    """stdout shared by the download and the heartbeat, a whole line at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last = 0.0

    def line(self, text: str) -> None:
        with self._lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            self.last = time.monotonic()

    def emit(self, obj: dict[str, Any]) -> None:
        self.line(dumps(obj))


def _heartbeat(out: _Out, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        if time.monotonic() - out.last >= HEARTBEAT_S:
            out.emit({"alive": True})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vtui-remote-download")
    parser.add_argument("mode", choices=("plan", "download"))
    parser.add_argument("repo")
    parser.add_argument("--revision", default="main")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--cache-dir")
    where.add_argument("--local-dir")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = _Out()
    for module in ("huggingface_hub", "httpx"):
        try:
            __import__(module)
        except ImportError:
            out.emit({"error": f"this image's Python has no {module}: use a vLLM image there"})
            return EXIT_FAILED
    from vtui.backends.hub.download import Target, plan_download, run_download
    from vtui.core.errors import Cancelled, DownloadError

    target = Target(
        cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        local_dir=Path(args.local_dir) if args.local_dir else None,
    )
    cancel = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    stop = threading.Event()
    threading.Thread(target=_heartbeat, args=(out, stop), daemon=True).start()
    last_report = 0.0

    def on_progress(p: Any) -> None:
        nonlocal last_report
        now = time.monotonic()
        if p.finished or now - last_report >= REPORT_EVERY_S:
            last_report = now
            out.line(progress_line(p))

    try:
        plan = plan_download(args.repo, revision=args.revision, target=target)
        if args.mode == "plan":
            for line in plan_lines(plan):
                out.line(line)
            return 0
        path = run_download(
            plan, revision=args.revision, target=target, on_progress=on_progress, cancel=cancel
        )
        out.emit({"done": str(path)})
        return 0
    except DownloadError as exc:
        out.emit({"error": str(exc)})
        return EXIT_FAILED
    except Cancelled:
        out.emit({"cancelled": True})
        return EXIT_CANCELLED
    finally:
        stop.set()


if __name__ == "__main__":
    sys.exit(main())
