"""`vtui bench`: a quick load test of the running model, and a comparison of two saved runs."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vtui.cli.arg_types import new_file
from vtui.cli.common import add_target_arguments, fail, given_endpoint

if TYPE_CHECKING:
    from vtui.backends.endpoint import ChatEndpoint
    from vtui.backends.registry import Backends
    from vtui.core.load_runs import LoadProgress
    from vtui.core.records import Deployment


def add_command(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="load-test the running model: throughput, time to first token, inter-token latency",
        description="Send N streaming chat requests at once for S seconds to the running vLLM\n"
        "container here (or any OpenAI-compatible server with --endpoint) and report\n"
        "requests/s, output tokens/s, time to first token (TTFT) and inter-token latency\n"
        "(ITL) at p50 and p99, and errors. Progress goes to stderr, the report to stdout.\n"
        "Each run is saved as JSON with the profile and vLLM arguments it ran against\n"
        "(in ~/.local/state/vtui/bench), so two launch settings can be compared.",
        epilog="examples:\n"
        "  vtui bench\n"
        "  vtui bench --concurrency 32 --duration 60 --prompt-tokens 1024 --max-tokens 256\n"
        "  vtui bench --endpoint http://10.0.0.5:8000 --api-key-env VLLM_API_KEY --json\n"
        "  vtui bench --compare before.json after.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.set_defaults(run=run)
    add_target_arguments(bench)
    bench.add_argument(
        "--concurrency", type=int, default=8, metavar="N", help="requests at once (default: 8)"
    )
    bench.add_argument(
        "--duration", type=float, default=30.0, metavar="S", help="seconds to run (default: 30)"
    )
    bench.add_argument(
        "--prompt-tokens",
        type=int,
        default=256,
        metavar="P",
        help="about this many tokens in each prompt (default: 256)",
    )
    bench.add_argument(
        "--max-tokens",
        type=int,
        default=128,
        metavar="M",
        help="tokens asked of each reply (default: 128)",
    )
    bench.add_argument(
        "--no-ignore-eos",
        action="store_true",
        help="let replies stop early; by default vLLM's ignore_eos makes each reply M tokens",
    )
    bench.add_argument("--json", action="store_true", help="print the result as JSON")
    bench.add_argument(
        "-o", "--output", type=new_file, metavar="FILE", help="save the result here instead"
    )
    bench.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("A.json", "B.json"),
        help="compare two saved runs instead of running one",
    )


def run(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.load_runs import LoadSettings

    if args.compare:
        return _compare(*args.compare)
    settings = LoadSettings(
        concurrency=args.concurrency,
        duration=args.duration,
        prompt_tokens=args.prompt_tokens,
        max_tokens=args.max_tokens,
        ignore_eos=not args.no_ignore_eos,
    )
    for name, problem in settings.problems():
        return fail(f"--{name.replace('_', '-')} {problem}")
    from vtui.services.targets import NoTarget

    given = given_endpoint(args)
    if isinstance(given, str):
        return fail(given)
    try:
        endpoint, model, deployment = _resolve(args, backends, given)
    except NoTarget as exc:
        return fail(exc)
    return _run(args, backends, endpoint, model, deployment, settings)


def _resolve(
    args: argparse.Namespace, backends: Backends, given: Any
) -> tuple[ChatEndpoint, str, Deployment | None]:
    from vtui.backends.registry import endpoint_at
    from vtui.services.targets import deployment_for, first_model

    if given is not None:
        endpoint = endpoint_at(given.url, given.api_key)
        return endpoint, given.model or first_model(endpoint, given.key_source), None
    d = deployment_for(backends, args.name, running=True)
    return backends.endpoint_for(d), args.model or d.model, d


class _Progress:
    """One line on stderr, redrawn in place on a terminal; a line every tenth otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.tenth = 0
        self.last: LoadProgress | None = None

    def __call__(self, progress: LoadProgress) -> None:
        self.last = progress
        if self.tty:
            sys.stderr.write(f"\r\x1b[Kbench: {progress.line()}")
        elif int(progress.fraction * 10) > self.tenth:
            self.tenth = int(progress.fraction * 10)
            sys.stderr.write(f"bench: {progress.line()}\n")
        sys.stderr.flush()

    def end(self) -> None:
        """The last figures, once the requests still streaming have been cut."""
        if self.last is not None:
            sys.stderr.write(f"\r\x1b[Kbench: {self.last.line()}\n" if self.tty else "")
            if not self.tty:
                sys.stderr.write(f"bench: done: {self.last.line()}\n")


def _run(
    args: argparse.Namespace,
    backends: Backends,
    endpoint: ChatEndpoint,
    model: str,
    deployment: Deployment | None,
    settings: Any,
) -> int:
    from vtui.services.load_runner import run_data, run_load_test, save_run

    print(
        f"bench: {settings.concurrency} requests at once for {settings.duration:g} s "
        f"against {model} at {endpoint.base_url} (Ctrl-C ends it early)",
        file=sys.stderr,
    )
    stopping = {"asked": False}

    def interrupted(_signum: int, _frame: object) -> None:
        if stopping["asked"]:
            raise KeyboardInterrupt
        stopping["asked"] = True  # the first Ctrl-C ends the run and still reports it

    previous = signal.signal(signal.SIGINT, interrupted)
    progress = _Progress()
    try:
        report = run_load_test(endpoint, model, settings, progress, lambda: stopping["asked"])
    except KeyboardInterrupt:
        progress.end()
        print("vtui: stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    progress.end()
    data = run_data(report, deployment, backends)
    path: Path | None
    try:
        path = save_run(data, backends, args.output)
    except OSError as exc:
        print(f"vtui: warning: cannot save the result: {exc}", file=sys.stderr)
        path = None
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print("\n".join(report.lines()))
    if path is not None:
        print(f"bench: saved {path} (compare two: vtui bench --compare A B)", file=sys.stderr)
    why_not = report.why_nothing_completed("--duration", "--max-tokens")
    if why_not:
        return fail(why_not)
    return 0


def _compare(a: Path, b: Path) -> int:
    from vtui.core.load_runs import comparison_lines

    runs = []
    for path in (a, b):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return fail(f"cannot read {path}: {exc}")
        if not isinstance(data, dict) or "results" not in data:
            return fail(f"{path} is not a result saved by vtui bench")
        runs.append(data)
    names = tuple(_label(data, path) for data, path in zip(runs, (a, b), strict=True))
    print("\n".join(comparison_lines(runs[0], runs[1], (names[0], names[1]))))
    return 0


def _label(data: dict[str, Any], path: Path) -> str:
    launch = data.get("launch") or {}
    return str(launch.get("profile") or path.stem)
