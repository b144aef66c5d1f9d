"""`vtui compose` and `vtui profile`: launch profiles from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from vtui.cli.arg_types import new_file
from vtui.cli.arg_types import port as port_number
from vtui.cli.common import fail, report_problems
from vtui.core.terminal_text import visible
from vtui.core.vllm_release import API_KEY_VAR, DEFAULT_IMAGE

# The parser is built on every start, the TUI's included; what the commands need
# (tomlkit, the argument catalogue) loads only when a command runs.
if TYPE_CHECKING:
    from vtui.backends.registry import Backends

FORMATS = ("compose", "run", "serve")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    compose = sub.add_parser(
        "compose",
        help="write or print a profile as a compose file, docker run or vllm serve",
        description="Render a launch profile. With -o, writes the compose file and, beside "
        "it, a .env (mode 0600) holding the profile's API key for `docker compose up`.",
    )
    compose.set_defaults(run=run)
    compose.add_argument("profile", help="profile name (see `vtui profile list`)")
    compose.add_argument(
        "-o",
        "--output",
        type=new_file,
        metavar="FILE",
        help="write the compose file here instead of printing it",
    )
    compose.add_argument(
        "--format",
        choices=FORMATS,
        default="compose",
        help="compose (default), run (a docker run line) or serve (a vllm serve line)",
    )

    profile = sub.add_parser(
        "profile",
        help="list, show or create launch profiles",
        description="Launch profiles live in "
        "$XDG_CONFIG_HOME/vtui/profiles (default ~/.config/vtui).",
    )
    profile.set_defaults(run=run)
    actions = profile.add_subparsers(dest="profile_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="every profile, with its model and address")
    show = actions.add_parser("show", help="a profile's file and what vtui thinks of it")
    show.add_argument("name")
    new = actions.add_parser(
        "new",
        help="create a profile (vLLM arguments go after --)",
        usage="vtui profile new NAME --model MODEL [options] [-- VLLM_ARGUMENTS ...]",
        description="Create a profile. vLLM's own arguments follow --, written as for "
        "`vllm serve`: vtui profile new qwen --model Qwen/Qwen3-8B -- --max-model-len 32k",
    )
    new.add_argument("name")
    new.add_argument(
        "--model",
        required=True,
        help="a Hub repo id (Qwen/Qwen3-8B) or a model directory on this machine",
    )
    new.add_argument(
        "--gpus",
        default="all",
        help='"all" (default), indices such as 0,1, or "none" (no GPU: a CPU build of vLLM)',
    )
    new.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to publish the port on (default 127.0.0.1: this machine "
        "only; 0.0.0.0 opens it to the network)",
    )
    new.add_argument(
        "--port",
        type=int,
        help="port on the host (default: 8000, or the next free one when 8000 is taken)",
    )
    new.add_argument("--image", default=DEFAULT_IMAGE, help=f"default {DEFAULT_IMAGE}")
    new.add_argument(
        "--runtime",
        choices=("docker", "process"),
        default="docker",
        help="docker (default: a container of --image) or process (`vllm serve` run here, "
        "from the environment of --vllm-program)",
    )
    new.add_argument(
        "--vllm-program",
        default="vllm",
        metavar="PATH",
        help="with --runtime process: the vllm program to run (default: vllm on PATH)",
    )
    new.add_argument(
        "--docker-host",
        default="",
        metavar="NAME",
        help="the Docker host it runs on (see `vtui hosts`; default: this machine); "
        "`vtui up --host` still picks another",
    )
    new.add_argument(
        "--worker-host",
        dest="worker_hosts",
        action="append",
        default=[],
        metavar="NAME",
        help="one more node for a model split over several hosts (repeat it): vtui starts a "
        "Ray head on --docker-host and a Ray worker on each of these, tensor parallel inside "
        "a node, pipeline parallel across (so -pp is the number of nodes)",
    )
    new.add_argument(
        "--head-address",
        default="",
        metavar="ADDRESS",
        help="with --worker-host: the IP or DNS name the workers reach the head's host at",
    )
    new.add_argument(
        "--ray-port",
        type=port_number,
        default=6379,
        metavar="PORT",
        help="with --worker-host: the head's Ray port (default 6379)",
    )


def run_compose(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.renderings import render_compose, render_docker_run, render_vllm_serve
    from vtui.services.host_checks import check_profile

    store = backends.profiles()
    spec = store.load(args.profile)
    if not report_problems(args.profile, check_profile(backends, spec), sys.stderr):
        return 1
    if spec.multinode:
        return fail(
            f"{spec.name} spans {1 + len(spec.worker_hosts)} hosts, which one compose file "
            f"cannot start: `vtui up {spec.name}` starts every node, `vtui export "
            f"{spec.name} --to ray-cluster` writes their commands as a script"
        )
    if args.format != "compose":
        line = render_docker_run(spec) if args.format == "run" else render_vllm_serve(spec)
        print(
            f'# first: export {API_KEY_VAR}="$(cat {store.key_path(spec.name)})"', file=sys.stderr
        )
        print(line)
        return 0
    if args.output is None:
        print(render_compose(spec), end="")
        return 0
    from vtui.services.saving import output_path, write_compose

    output = output_path(backends, args.output)
    try:
        env_file = write_compose(backends, spec, output)
    except OSError as exc:
        return fail(f"cannot write {output}: {exc.strerror or exc}")
    print(f"wrote {output} and {env_file} ({API_KEY_VAR}, mode 0600)")
    print(f"start it: docker compose -f {output} up -d")
    return 0


def run_profile(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.errors import ProfileError
    from vtui.services.host_checks import check_profile

    store = backends.profiles()
    if args.profile_command == "list":
        names = store.names()
        if not names:
            print(
                f"no profiles yet in {store.profiles_dir}; create one with "
                "`vtui profile new NAME --model REPO`"
            )
        for name in names:
            try:
                spec = store.load(name)
                print(f"{name:24} {spec.model:48} {spec.host}:{spec.port}")
            except ProfileError as exc:
                print(f"{name:24} cannot be read: {visible(str(exc), newlines=True)}")
        return 0
    if args.profile_command == "show":
        spec = store.load(args.name)
        path = store.path(args.name)
        print(f"# {path}")
        print(visible(path.read_text(encoding="utf-8"), newlines=True), end="")
        problems = check_profile(backends, spec)
        report_problems(args.name, problems, sys.stdout)
        if not any(p.blocks_launch for p in problems):
            print(f"# {args.name}: ready to launch")
        return 0
    return _new_profile(args, backends)


def _new_profile(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.arg_tokens import args_from_tokens
    from vtui.core.launch_checks import Problem
    from vtui.core.launch_spec import parse_gpus
    from vtui.services.host_checks import check_profile
    from vtui.services.launching import DEFAULT_PORT, free_port, new_spec

    vllm_args, problems = args_from_tokens(list(args.vllm_args))
    if args.vllm_program != "vllm" and args.runtime != "process":
        problems.append(Problem("--vllm-program", "goes with --runtime process (a container "
                                "runs the vllm of its image)"))  # fmt: skip
    gpus = parse_gpus(args.gpus)
    if args.docker_host:
        from vtui.core.hosts import HostProblem
        from vtui.services.hosts import checked_host

        try:
            checked_host(backends, args.docker_host)
        except HostProblem as exc:
            problems.append(Problem("--docker-host", str(exc)))
        if args.runtime == "process":
            problems.append(Problem("--docker-host", "a process profile runs on this machine"))

    for worker in args.worker_hosts:
        from vtui.core.hosts import HostProblem
        from vtui.services.hosts import checked_host

        try:
            checked_host(backends, worker)
        except HostProblem as exc:
            problems.append(Problem("--worker-host", str(exc)))
    if (args.head_address or args.ray_port != 6379) and not args.worker_hosts:
        problems.append(Problem("--head-address", "goes with --worker-host (several nodes)"))
    if gpus is None:
        problems.append(Problem("gpus", f'"all", "none" or indices such as 0,1, not {args.gpus!r}'))
        gpus = "all"
    port = args.port
    if port is None:
        port = free_port(backends, args.host)
        if port != DEFAULT_PORT:
            print(f"vtui: {args.name}: port {DEFAULT_PORT} is taken; using {port}", file=sys.stderr)
    spec = new_spec(
        args.name,
        args.model,
        image=args.image,
        gpus=gpus,
        host=args.host,
        port=port,
        args=vllm_args,
        runtime=args.runtime,
        vllm_program=args.vllm_program,
        docker_host=args.docker_host,
        worker_hosts=tuple(args.worker_hosts),
        head_address=args.head_address,
        ray_port=args.ray_port,
    )
    problems += check_profile(backends, spec, spec.docker_host or None)
    if not report_problems(args.name, problems, sys.stderr):
        print(f"vtui: {args.name}: not created", file=sys.stderr)
        return 1
    store = backends.profiles()
    path = store.create(spec)
    print(f"created {path}")
    print(f"its API key is in {store.key_path(args.name)} (mode 0600)")
    return 0


def run(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.errors import ProfileError

    try:
        if args.command == "compose":
            return run_compose(args, backends)
        return run_profile(args, backends)
    except ProfileError as exc:
        return fail(exc)
