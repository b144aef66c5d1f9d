"""`vtui search`, `vtui download` and `vtui models`: the Models screen's work from a shell."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from vtui.cli.arg_types import directory_to_fill, existing_directory
from vtui.core.bars import bar
from vtui.core.downloads import Progress
from vtui.core.model_search import QUANTS, SIZES, SORTS
from vtui.core.terminal_text import visible
from vtui.core.units import human_bytes

PLAIN_EVERY_S = 2.0  # without a TTY, a progress line this often
BAR_WIDTH = 30
COMMANDS = ("search", "download", "models")

if TYPE_CHECKING:
    from vtui.backends.registry import Backends


def add_commands(commands: Any) -> None:
    search = commands.add_parser(
        "search",
        help="search the Hub for models",
        description="Search the Hugging Face Hub (or HF_ENDPOINT) for models vLLM can serve\n"
        "(safetensors; GGUF marked experimental), most downloaded first.",
        epilog="examples:\n  vtui search qwen3 --quant AWQ\n"
        "  vtui search --author meta-llama --size 4-16B --sort likes",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    search.set_defaults(run=run)
    search.add_argument(
        "query", metavar="QUERY", nargs="?", default="", help="words in the repo id, e.g. qwen3"
    )
    search.add_argument("--author", default="", metavar="ORG", help="e.g. Qwen, RedHatAI")
    search.add_argument("--quant", choices=QUANTS, default="any", help="default: any")
    search.add_argument(
        "--size", choices=SIZES, default="any", metavar="BAND",
        help=f"parameters: {', '.join(SIZES)} (default: any)",
    )  # fmt: skip
    search.add_argument(
        "--sort", choices=tuple(SORTS), default="downloads", help="default: downloads"
    )
    search.add_argument("--limit", type=int, default=20, metavar="N", help="default: 20")
    search.add_argument("--json", action="store_true", help="one JSON array")

    download = commands.add_parser(
        "download",
        help="download what vLLM needs of a model, resumably",
        description="Download a model's safetensors, config and tokenizer files (not *.bin,\n"
        "*.pth or original/ copies when safetensors exist) into the shared HF cache, where\n"
        "`hf` and the vLLM container find them, or into --local-dir. A stopped download\n"
        "(Ctrl-C, a crash, a dropped connection) continues where it stopped when rerun.",
        epilog="examples:\n  vtui download Qwen/Qwen3-8B\n"
        "  vtui download Qwen/Qwen3-8B-AWQ --local-dir /data/models/qwen3-8b-awq\n"
        "  vtui download Qwen/Qwen3-8B --host gpu-2    # into gpu-2's own HF cache\n\n"
        "With --host the files go from the Hub straight to that host (vtui's downloader\n"
        "runs there in a helper container of its vLLM image, on that host's network), into\n"
        "its hf_home from config.toml [hosts.NAME], else the same path as here; --local-dir\n"
        "and --cache-dir then name paths on that host.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    download.set_defaults(run=run)
    download.add_argument("repo", metavar="REPO", help="Hub repo id, e.g. Qwen/Qwen3-8B")
    download.add_argument("--revision", default="main", metavar="R", help="default: main")
    download.add_argument(
        "--local-dir", metavar="DIR", help="a plain directory instead of the HF cache"
    )
    download.add_argument("--cache-dir", metavar="DIR", help="the HF cache (default: HF_HUB_CACHE)")
    download.add_argument(
        "--host",
        metavar="NAME",
        help="download into that Docker host's HF cache (see `vtui hosts`)",
    )

    models = commands.add_parser(
        "models",
        help="models on this machine",
        description="Models in the HF cache and in model directories (default: /data/models).",
    )
    models.set_defaults(run=run)
    models.add_argument(
        "--dir",
        type=existing_directory,
        action="append",
        metavar="DIR",
        help="a model directory (repeatable)",
    )
    models.add_argument("--json", action="store_true", help="one JSON array")


def run(args: argparse.Namespace, backends: Backends) -> int:
    if args.command == "search":
        return _search(args, backends)
    if args.command == "download":
        return _download(args, backends)
    return _models(args, backends)


def _search(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.errors import BackendUnavailable
    from vtui.core.model_search import SearchQuery
    from vtui.services import models

    query = SearchQuery(args.query, args.author, args.quant, args.size, args.sort)

    def waiting(why: str) -> None:
        print(f"vtui search: {visible(why)}", file=sys.stderr)

    try:
        found = models.search(backends, query, limit=args.limit, on_wait=waiting)
    except BackendUnavailable as exc:
        print(f"vtui search: {visible(exc.reason)}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([m.__dict__ for m in found], indent=2))
        return 0
    if not found:
        print(f"no models {query.describe()}")
        return 0
    print(f"{'MODEL':<46} {'QUANT':<8} {'PARAMS':>7} {'SIZE':>9} {'DOWNLOADS':>10} "
          f"{'GATED':<6} UPDATED")  # fmt: skip
    for m in found:
        params = f"{m.params_billions:.1f}B" if m.params_billions else "?"
        size = human_bytes(m.size_bytes) if m.size_bytes else "?"
        quant = "GGUF*" if m.quant == "GGUF" else (m.quant or "-")
        print(f"{m.repo_id:<46} {quant:<8} {params:>7} {size:>9} {m.downloads or 0:>10,} "
              f"{'yes' if m.gated else '-':<6} {m.last_modified or '?'}")  # fmt: skip
    if any(m.quant == "GGUF" for m in found):
        print("* GGUF: vLLM's support is experimental; prefer a safetensors variant")
    return 0


class _Printer:
    """A redrawn bar on a terminal; a plain line every few seconds otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if self.tty:
            self.stream.write(f"\r\x1b[K{bar(p.fraction, BAR_WIDTH)} {p.line()}")
            if p.finished:
                self.stream.write("\n")
        elif p.finished or now - self.last >= PLAIN_EVERY_S:
            self.last = now
            self.stream.write(p.line() + "\n")
        self.stream.flush()


def _download(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.downloads import Destination
    from vtui.core.errors import Cancelled, DownloadError
    from vtui.core.hosts import LOCAL, HostProblem
    from vtui.services import models
    from vtui.services.hosts import checked_host

    try:
        host = checked_host(backends, args.host)
    except HostProblem as exc:
        print(f"vtui download: {visible(str(exc))}", file=sys.stderr)
        return 2
    remote = host not in (None, LOCAL)
    dirs = {}
    for option in ("local_dir", "cache_dir"):
        value = getattr(args, option)
        try:
            # A remote host's paths are that host's: checked there, not against this disk.
            dirs[option] = value if remote or value is None else str(directory_to_fill(value))
        except argparse.ArgumentTypeError as exc:
            print(f"vtui download: --{option.replace('_', '-')}: {exc}", file=sys.stderr)
            return 2
    where = Destination(revision=args.revision, **dirs)
    there = f" on host {host}" if remote else " here"
    try:
        plan = models.plan(backends, args.repo, where, host)
    except DownloadError as exc:
        print(f"vtui download: {visible(str(exc))}", file=sys.stderr)
        return 1
    have = plan.total_bytes - plan.missing_bytes
    print(
        f"{plan.repo_id} @ {plan.commit[:12]}: {len(plan.files)} files, "
        f"{human_bytes(plan.total_bytes)}"
        + (f" ({human_bytes(have)} already{there})" if have else "")
        + (f"; skipping {len(plan.skipped)} vLLM does not read" if plan.skipped else "")
    )
    cancel = threading.Event()

    def stop(_signum: int, _frame: object) -> None:
        cancel.set()

    previous = signal.signal(signal.SIGINT, stop)
    try:
        path = models.fetch(backends, plan, _Printer(sys.stdout), cancel, where, host)
    except Cancelled:
        print("\nstopped; what came is kept: rerun the same command to resume", file=sys.stderr)
        return 130
    except DownloadError as exc:
        print(f"\nvtui download: {visible(str(exc))}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, previous)
    print(f"ready{there if remote else ''}: {visible(path)}")
    return 0


def _models(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.services import models

    dirs = args.dir or []
    found = models.here(backends, dirs)
    if args.json:
        print(json.dumps([m.as_json() for m in found], indent=2))
        return 0
    if not found:
        where = ", ".join(map(str, dirs)) if dirs else "the HF cache"
        print(f"no models in {where}; `vtui download REPO` fetches one")
        return 0
    print(f"{'MODEL':<50} {'SIZE':>9} {'REVISION':<12} {'LAST USED':<16} WHERE")
    for m in found:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(m.last_used)) if m.last_used else "?"
        print(
            f"{m.name:<50} {human_bytes(m.size_bytes):>9} {m.revision[:12]:<12} "
            f"{used:<16} {m.where}"
        )
    return 0
