"""`vtui`: the command line. Imports stay light here; the UI and backends load after parsing."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vtui import __version__
from vtui.cli.common import fail, interactive_problem
from vtui.core.terminal_size import parse_size
from vtui.core.vllm_release import DEFAULT_IMAGE, VLLM_VERSION
from vtui.ui.frame_rate import use_frame_rate

if TYPE_CHECKING:
    from vtui.backends.registry import Backends
    from vtui.ui.app import VtuiApp

EPILOG = """\
screens (one key each, also in the command palette, ctrl+p):
  1 Models   search the Hub and pick a model
  2 Launch   how the model will be served
  3 Server   vLLM containers and their logs
  4 GPU      memory, load and processes of every GPU
  5 Chat     talk to the running model

commands (each has --help):
  up PROFILE                        launch a profile; wait until it serves, or say why not
  ps [--json] [--host H]            vLLM containers on every host (vtui's and any vLLM image)
  hosts [--json]                    the Docker hosts (local, contexts, config.toml), each asked
  logs NAME [-f]                    a container's log
  down NAME                         stop and remove a container
  attach URL [--api-key-env VAR]    add any OpenAI-compatible server as a deployment
  gpus [--json]                     every GPU's memory, load and processes, once
  chat [--prompt TEXT]              talk to the running model (or --endpoint URL)
  bench [--concurrency N]           load-test it: tokens/s, TTFT, ITL; --compare A B
  compose PROFILE [-o FILE]         a profile as a compose file (or --format run|serve)
  profile list|show|new             launch profiles, kept in ~/.config/vtui/profiles
  estimate MODEL [--json]           will it fit these GPUs, with how much KV cache
  search QUERY [--json]             find models on the Hub
  download REPO [--local-dir DIR]   fetch what vLLM needs; rerun to resume
  models [--json]                   models already on this machine
  doctor [--json] [--repo R]        is this machine ready? each check, its reason and fix

examples:
  vtui --demo                       try it with no GPU, Docker or network
  vtui doctor                       what this machine still needs, with the fix for each
  vtui profile new qwen --model Qwen/Qwen3-8B -- --max-model-len 32k
  vtui up qwen                      start it here and wait until it answers
  vtui compose qwen -o docker-compose.yml && docker compose up -d
  vtui estimate Qwen/Qwen3-8B --max-model-len 32k
  vtui                              manage vLLM on this machine (Docker + NVIDIA driver)
  vtui --headless --demo --screenshots shots --size 120x40
                                    write every screen as shots/<screen>.svg

a real GPU box needs Docker Engine and the NVIDIA Container Toolkit; HF_ENDPOINT
points vtui at a Hub mirror, and HF_TOKEN (never shown or stored) at gated models.
"""


def build_parser(
    argv: list[str] | None = None, with_commands: bool | None = None
) -> argparse.ArgumentParser:
    """argv (default: this process's) decides what the parser needs: the commands only
    when a word that could name one (or --help) is there, since importing them all cost
    40 ms of the TUI's start-up; vLLM's help texts for `estimate` only when it is named,
    since they cost loading the argument catalogue."""
    wanted = sys.argv[1:] if argv is None else argv
    if with_commands is None:
        with_commands = any(not word.startswith("-") or word in ("-h", "--help") for word in wanted)
    parser = argparse.ArgumentParser(
        prog="vtui",
        description="Serve a model with vLLM from one terminal screen: pick it, launch it, "
        "watch the GPU and the logs, chat with it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="simulate everything: two H100s, a vLLM container, the Hub, the "
        "endpoint (no GPU, Docker or network needed)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=7,
        metavar="N",
        help="the demo's random seed: same seed, same figures (default: 7)",
    )
    parser.add_argument(
        "--demo-gpus",
        type=int,
        default=2,
        choices=range(1, 9),
        metavar="N",
        help="how many GPUs the demo simulates, 1 to 8 (default: 2)",
    )
    parser.add_argument(
        "--demo-hosts",
        type=int,
        default=1,
        choices=range(1, 5),
        metavar="N",
        help="how many Docker hosts the demo simulates, this machine and N-1 remote ones "
        "(gpu-2, ...), 1 to 4 (default: 1)",
    )
    parser.add_argument(
        "--gpu-interval",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds between two GPU readings in the UI (default: 1)",
    )
    parser.add_argument(
        "--headless", action="store_true", help="render without a terminal (use with --screenshots)"
    )
    parser.add_argument(
        "--screenshots",
        type=Path,
        metavar="DIR",
        help="with --headless: write every screen to DIR/<screen>.svg",
    )
    parser.add_argument(
        "--size",
        default="120x40",
        metavar="WxH",
        help="terminal size for --headless, in cells (default: 120x40)",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"vtui {__version__} (targets vLLM {VLLM_VERSION}, image {DEFAULT_IMAGE})",
    )
    if not with_commands:
        parser.set_defaults(command=None)
        return parser
    from vtui.cli.bench import add_command as add_bench
    from vtui.cli.chat import add_command as add_chat
    from vtui.cli.deploy import add_commands as add_deploy_commands
    from vtui.cli.doctor import add_command as add_doctor
    from vtui.cli.estimate import add_command as add_estimate
    from vtui.cli.export import add_command as add_export
    from vtui.cli.gpus import add_command as add_gpus
    from vtui.cli.hosts import add_command as add_hosts
    from vtui.cli.models import add_commands as add_model_commands
    from vtui.cli.probe import add_command as add_probe
    from vtui.cli.profiles import add_commands

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_commands(commands)
    add_model_commands(commands)
    add_deploy_commands(commands)
    add_gpus(commands)
    add_hosts(commands)
    add_chat(commands)
    add_bench(commands)
    add_estimate(commands, catalogue_help="estimate" in wanted)
    add_probe(commands)
    add_doctor(commands)
    add_export(commands)
    return parser


def make_backends(args: argparse.Namespace) -> Backends:
    """The one registry call: every command and screen runs on what it hands out."""
    from vtui.backends.registry import backends_for

    return backends_for(args.demo, args.seed, args.demo_gpus, args.demo_hosts)


def build_app(args: argparse.Namespace) -> VtuiApp:
    from vtui.ui.app import VtuiApp

    return VtuiApp(make_backends(args), gpu_interval=args.gpu_interval)


def _prepare_dir(directory: Path) -> str | None:
    """None when DIR can take the screenshots, else why not."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".vtui-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"cannot write screenshots to {directory}: {exc.strerror or exc}"
    return None


def run_headless(args: argparse.Namespace, size: tuple[int, int]) -> int:
    from vtui.ui.headless import DATA_WAIT_S, write_screenshots

    problem = _prepare_dir(args.screenshots)
    if problem:
        return fail(problem)
    run = write_screenshots(make_backends(args), args.screenshots, size)
    for path in run.written:
        print(path)
    for mode in run.late:
        print(
            f"vtui: warning: the {mode} screen's data did not come within "
            f"{DATA_WAIT_S:.0f} s; its screenshot shows it still loading",
            file=sys.stderr,
        )
    for mode, why in run.failed:
        print(f"vtui: error: the {mode} screen failed to render: {why}", file=sys.stderr)
    return 1 if run.failed else 0


def main(argv: list[str] | None = None) -> int:
    use_frame_rate()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    # Everything after "--" is vLLM's own arguments (`vtui profile new ... -- --max-model-len
    # 32k`), read by vtui's catalogue rather than by argparse.
    vllm_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.vllm_args = vllm_args
    if vllm_args and (args.command, getattr(args, "profile_command", None)) != ("profile", "new"):
        parser.error("arguments after -- are vLLM arguments, for `vtui profile new` only")
    if args.gpu_interval < 0.1:
        parser.error("--gpu-interval must be at least 0.1 seconds")
    if args.command is not None:
        from vtui.services.hosts import be_patient

        command: Callable[[argparse.Namespace, Backends], int] = args.run
        backends = make_backends(args)
        be_patient(backends)
        return command(args, backends)
    try:
        size = parse_size(args.size)
    except ValueError as exc:
        parser.error(str(exc))
    if args.screenshots is not None and not args.headless:
        parser.error("--screenshots needs --headless")
    if args.headless:
        if args.screenshots is None:
            parser.error(
                "--headless needs --screenshots DIR (there is nothing else to do "
                "without a terminal)"
            )
        return run_headless(args, size)
    problem = interactive_problem()
    if problem:
        print(f"vtui: {problem}", file=sys.stderr)
        return 1
    build_app(args).run()
    return 0
