"""What every command shares: how an error is printed, whether the full-screen UI can
run here, and the options that name which server a command talks to."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from vtui.core.terminal_text import visible

if TYPE_CHECKING:
    from vtui.backends.endpoint import GivenEndpoint
    from vtui.core.launch_checks import Problem


def fail(message: object, program: str = "vtui", code: int = 1) -> int:
    """One error line (its control characters shown, not obeyed) on stderr; the exit code."""
    print(f"{program}: error: {visible(str(message), newlines=True)}", file=sys.stderr)
    return code


def report_problems(name: str, problems: Sequence[Problem], out: TextIO) -> bool:
    """One line a problem; True when nothing but warnings and cautions."""
    for problem in problems:
        print(f"vtui: {name}: {visible(str(problem), newlines=True)}", file=out)
    return not any(p.blocks_compose for p in problems)


def interactive_problem() -> str | None:
    """Why the full-screen UI cannot run in this terminal, or None."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return (
            "needs an interactive terminal (stdin and stdout must be a TTY); over SSH "
            "use `ssh -t`, or render screens with `vtui --headless --screenshots DIR`."
        )
    if os.environ.get("TERM") == "dumb":
        return "TERM=dumb cannot draw a full-screen UI; set TERM (e.g. xterm-256color)."
    return None


def add_target_arguments(parser: Any) -> None:
    """Which server a command talks to: a vLLM container here, or any --endpoint."""
    parser.add_argument("--endpoint", metavar="URL", help="an OpenAI-compatible server's base URL")
    parser.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="the environment variable holding the server's API key (never printed)",
    )
    parser.add_argument("--name", help="which vLLM container here (default: the running one)")
    parser.add_argument("--model", help="served model name (default: the server's own)")


def given_endpoint(args: argparse.Namespace) -> GivenEndpoint | str | None:
    """The endpoint named by --endpoint (None: none named), or what is wrong with it."""
    from vtui.backends.endpoint import GivenEndpoint

    if args.endpoint is None:
        if args.api_key_env:
            return "--api-key-env goes with --endpoint (a vtui deployment's key is known)"
        return None
    if not args.endpoint.startswith(("http://", "https://")):
        return f"--endpoint {args.endpoint}: give a URL, as http://127.0.0.1:8000"
    key = None
    source = "no API key"
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            return f"${args.api_key_env} is not set (--api-key-env names the variable)"
        source = f"${args.api_key_env}"
    url = args.endpoint.rstrip("/").removesuffix("/v1")
    return GivenEndpoint(url, key, source, args.model)
