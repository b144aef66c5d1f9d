"""`vtui up`, `ps`, `logs` and `down`: deployments from the command line.

`up` reads the container the way the Server screen does (DeploymentWatch), so both say the
same phases, figures and failures. Ctrl-C only stops vtui: the container keeps running.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from vtui.cli.arg_types import count, seconds
from vtui.cli.common import fail, report_problems

if TYPE_CHECKING:
    from vtui.backends.registry import Backends
    from vtui.core.records import Deployment
    from vtui.services.following import WatchUpdate

UP_TIMEOUT_SECONDS = 1800


def add_commands(commands: Any) -> None:
    up = commands.add_parser(
        "up",
        help="launch a profile and wait until it answers",
        description="Start a profile's container and follow it until vLLM serves: the image\n"
        "pulled if missing, then each start-up phase with its time, then the address.\n"
        "On a failure it says why and how to fix it, and exits 1. Ctrl-C leaves the\n"
        "container running (see `vtui ps`, `vtui down NAME`). A profile that runs\n"
        "already is left as it is (exit 0) unless --restart is given.",
        epilog="examples:\n  vtui up qwen && curl -s localhost:8000/health\n"
        "  vtui up qwen --restart    after `vtui profile` edits: stop it, start it anew",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.set_defaults(run=run)
    up.add_argument("profile", help="profile name (see `vtui profile list`)")
    up.add_argument(
        "--timeout",
        type=seconds,
        default=UP_TIMEOUT_SECONDS,
        metavar="S",
        help=f"give up waiting after S seconds (default {UP_TIMEOUT_SECONDS}; the container "
        "keeps starting)",
    )
    up.add_argument(
        "--host",
        metavar="NAME",
        help="start it on this Docker host (see `vtui hosts`; default: the profile's "
        "docker_host, else this machine)",
    )
    up.add_argument(
        "--restart",
        action="store_true",
        help="if the profile runs already, stop it (SIGTERM, SIGKILL after 30 s) and start "
        "it again as the profile now says",
    )
    ps = commands.add_parser(
        "ps",
        help="vLLM containers on this engine",
        description="vtui's containers and any other container running a vllm/vllm-openai "
        "image, running or stopped.",
    )
    ps.set_defaults(run=run)
    ps.add_argument("--json", action="store_true", help="one JSON list instead of a table")
    ps.add_argument("--host", metavar="NAME", help="only this Docker host's (see `vtui hosts`)")
    logs = commands.add_parser(
        "logs", help="a container's log", description="Print a vLLM container's log."
    )
    logs.set_defaults(run=run)
    logs.add_argument("name", help="container name, id prefix, or profile name")
    logs.add_argument("--host", metavar="NAME", help="the Docker host it runs on, if not clear")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument(
        "--tail", type=count, default=0, metavar="N", help="only the last N lines (default: all)"
    )
    down = commands.add_parser(
        "down",
        help="stop a container and remove it",
        description="Stop a vLLM container (SIGTERM, then SIGKILL after --timeout) and "
        "remove it, as `docker compose down` does. Containers vtui did not start are stopped "
        "but never removed.",
    )
    down.set_defaults(run=run)
    down.add_argument("name", help="container name, id prefix, or profile name")
    down.add_argument("--host", metavar="NAME", help="the Docker host it runs on, if not clear")
    down.add_argument(
        "--timeout", type=count, default=30, metavar="S", help="seconds before SIGKILL (default 30)"
    )
    down.add_argument("--keep", action="store_true", help="stop only; keep the container")
    attach = commands.add_parser(
        "attach",
        help="add any OpenAI-compatible server by URL, as a deployment without a log",
        description="Attach a vLLM (or any OpenAI-compatible) server that vtui did not start,\n"
        "here or on another machine: it is checked first (GET /v1/models with the key), then\n"
        "listed by `vtui ps` and the Server screen, and `vtui chat/bench --name NAME` reach\n"
        "it. Its log and start-up phases stay on its own machine. `vtui down NAME` forgets it\n"
        "(the server keeps running). The key is never stored: only the variable's name.",
        epilog="example:\n  vtui attach http://10.0.0.5:8000 --api-key-env VLLM_API_KEY --name lab",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    attach.set_defaults(run=run)
    attach.add_argument("url", metavar="URL", help="the server's base URL (/v1 may be left off)")
    attach.add_argument("--name", help="what to call it (default: HOST-PORT)")
    attach.add_argument(
        "--api-key-env", metavar="VAR", help="the environment variable holding its API key"
    )


def run(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.errors import BackendUnavailable, EngineError
    from vtui.core.hosts import HostProblem
    from vtui.services.deployments import find
    from vtui.services.hosts import checked_host, on_host, survey

    try:
        host = checked_host(backends, getattr(args, "host", None))
        if args.command == "ps":
            return _ps(args, backends, host)
        if args.command == "up":
            return _up(args, backends, host)
        if args.command == "attach":
            return _attach(args, backends)
        deployments, _states = survey(backends)
        mine = on_host(deployments, host)
        deployment = find(mine, args.name)
        if deployment is None:
            where = f"on host {host}" if host else "here"
            return fail(f"no vLLM container called {args.name!r} {where} (see `vtui ps`)")
        hosts = sorted({d.engine_host for d in mine if find([d], args.name)})
        if host is None and len(hosts) > 1:
            return fail(
                f"{args.name!r} is on several hosts ({', '.join(hosts)}): say which with --host"
            )
        if args.command == "logs":
            return _logs(args, backends, deployment)
        return _down(args, backends, deployment)
    except (BackendUnavailable, EngineError, HostProblem) as exc:
        return fail(exc)


def _short_id(container_id: str) -> str:
    from vtui.core.hosts import remote_id, split_id

    host, inner = split_id(container_id)
    return inner[:12] if host is None else remote_id(host, inner[:12])


def _ps(args: argparse.Namespace, backends: Backends, host: str | None) -> int:
    from vtui.core.deployments import heads_first, node_note
    from vtui.core.terminal_text import visible
    from vtui.services.hosts import on_host, survey

    found, states = survey(backends)
    deployments = heads_first(on_host(found, host))
    silent = [s for s in states if not s.reachable and (host is None or s.host.name == host)]
    several = len(states) > 1
    if silent and not several:  # this machine's engine alone, and it did not answer
        return fail(silent[0].error or "the Docker engine did not answer")
    for quiet in silent:
        why = quiet.error or "no answer yet"
        print(f"vtui: warning: host {quiet.host.name}: {visible(why)}", file=sys.stderr)
    if args.json:
        rows = [
            {
                "name": d.name,
                "host": d.engine_host,
                "id": _short_id(d.container_id),
                "state": str(d.state),
                "exit_code": d.exit_code,
                "model": d.model,
                "address": d.base_url,
                "image": d.image,
                "vtui": d.managed,
                "profile": d.profile,
                "runtime": d.runtime,
                "node": d.worker_role or ("head" if d.group else None),
                "group": d.group,
            }
            for d in deployments
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not deployments and not (several and silent):
        where = f"on host {host}" if host else "here"
        print(f"no vLLM containers {where}; start one with `vtui up PROFILE`")
        return 0
    head = f"{'HOST':12} " if several else ""
    print(f"{head}{'NAME':28} {'STATE':12} {'MODEL':40} {'ADDRESS':22} {'OWNER':6} RUNTIME")
    for d in deployments:
        state = f"exited ({d.exit_code})" if d.exit_code is not None else str(d.state)
        owner = "vtui" if d.managed else "found"
        address = node_note(d) or d.address
        row = f"{d.name:28} {state:12} {d.model:40} {address:22} {owner:6} {d.runtime}"
        print(f"{d.engine_host:12} {row}" if several else row)
    for s in silent:  # a host that did not answer is a row, with why
        print(f"{s.host.name:12} {'-':28} {'unreachable':12} {visible(s.error or 'no answer')}")
    return 0


def _logs(args: argparse.Namespace, backends: Backends, deployment: Deployment) -> int:
    engine = backends.engine
    if not args.follow:
        print("\n".join(engine.logs(deployment.container_id, args.tail)))
        return 0
    # One stream from the engine: the last --tail lines, then each new one, so a huge log
    # is never read whole and no line comes twice.
    follow = engine.follow_logs(deployment.container_id, tail=args.tail if args.tail else None)
    try:
        for line in follow:
            print(line.text, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        follow.close()
    return 0


def _attach(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.services.attaching import AttachRefused, attach

    try:
        done = attach(backends, args.url, args.name, args.api_key_env)
    except AttachRefused as exc:
        return fail(exc)
    name = done.deployment.name
    print(f"attached {name}: {done.deployment.base_url}/v1 serves {', '.join(done.models)}")
    print(f"  chat: vtui chat --name {name}   load test: vtui bench --name {name}")
    print(f"  forget it: vtui down {name} (the server keeps running)")
    return 0


def _down(args: argparse.Namespace, backends: Backends, deployment: Deployment) -> int:
    from vtui.services.deployments import down

    if deployment.live:
        print(f"stopping {deployment.name} (SIGKILL after {args.timeout}s)...", file=sys.stderr)
    done = down(backends, deployment, timeout=args.timeout, keep=args.keep)
    if done.removed and deployment.runtime == "endpoint":
        print(f"detached {deployment.name}; the server itself keeps running")
    elif done.removed:
        also = f" and its {done.workers} Ray worker(s)" if done.workers else ""
        print(f"stopped and removed {deployment.name}{also}")
    elif args.keep:
        print(f"stopped {deployment.name}; kept (remove with `vtui down {deployment.name}`)")
    else:
        print(f"stopped {deployment.name}; not removed: {done.why_kept}")
    return 0


# -- up -------------------------------------------------------------------------------------------


def _up(args: argparse.Namespace, backends: Backends, host: str | None) -> int:
    from vtui.core.errors import ProfileError
    from vtui.services.following import DeploymentWatch
    from vtui.services.host_checks import check_profile, gpu_readings
    from vtui.services.launching import (
        LaunchFailed,
        launch,
        pull_reporter,
        restart_with,
        running_for,
    )

    try:
        spec = backends.profiles().load(args.profile)
        from vtui.services.hosts import checked_host, on_host, survey

        if host is None and spec.docker_host:
            host = checked_host(backends, spec.docker_host)

        deployments, _states = survey(backends)
        running = running_for(on_host(deployments, host), spec.name)
        if running is not None and not args.restart:
            print(
                f"{args.profile} runs already as {running.name} ({running.state.value}, "
                f"{running.address}{_on(running.engine_host)}); left as it is. "
                f"`vtui up {args.profile} --restart` starts it anew as the profile now says."
            )
            return 0
        problems = [p for p in check_profile(backends, spec, host) if not p.warning]
        if not report_problems(args.profile, problems, sys.stderr):
            return fail(f"{args.profile}: fix the profile first (vtui profile show NAME)")
        printer = pull_reporter(
            spec.image, 1.0, lambda pull: print(pull.describe(), file=sys.stderr, flush=True)
        )
        if running is not None:
            print(f"restarting {running.name}: stopping it (SIGKILL after 30 s)...")
            print(f"starting {spec.container}: {spec.served_name} on {spec.host}:{spec.port}")
            deployment = restart_with(backends, spec, running, printer)
        else:
            print(
                f"starting {spec.container}: {spec.served_name} on {spec.host}:{spec.port}"
                f"{_on(host)}"
            )
            if spec.multinode:
                print(
                    f"  a Ray cluster of {1 + len(spec.worker_hosts)} nodes: the head on "
                    f"{host or spec.docker_host or 'local'}, workers on "
                    f"{', '.join(spec.worker_hosts)}; vLLM starts once every node joined"
                )
            deployment = launch(backends, spec, printer, host)
    except (ProfileError, LaunchFailed) as exc:
        return fail(exc)
    try:
        gpu_count = max(1, len(gpu_readings(backends.gpu)))  # for the explainer's advice
    finally:
        backends.gpu.close()
    watch = DeploymentWatch.of(backends, deployment.container_id, gpu_count)
    report = _UpReport(deployment.name, args.timeout)
    stopping = threading.Event()
    try:
        watch.run(lambda update: report.show(update, stopping), stopping)
    except KeyboardInterrupt:
        print(
            f"\nvtui: left {deployment.name} running; follow it with `vtui logs "
            f"{deployment.name} -f`, stop it with `vtui down {deployment.name}`",
            file=sys.stderr,
        )
        return 130
    return report.code


def _on(host: str | None) -> str:
    return f" of host {host}" if host and host != "local" else ""


class _UpReport:
    """Prints each phase as it begins and the outcome; decides the exit code."""

    def __init__(self, name: str, timeout: float) -> None:
        self.name = name
        self.code = 1
        self._began = time.monotonic()
        self._deadline = self._began + timeout
        self._timeout = timeout
        self._phase: str | None = None
        self._figures: tuple[str, ...] = ()
        self._engine_error: str | None = None

    def show(self, update: WatchUpdate, stopping: threading.Event) -> None:
        from vtui.core.startup import Phase

        if update.engine_error != self._engine_error:
            self._engine_error = update.engine_error
            if update.engine_error:
                print(f"  engine: {update.engine_error} (retrying)", file=sys.stderr, flush=True)
        if update.phase != self._phase:
            # The figures vLLM printed in the phase that ended, then the new phase.
            if update.figures != self._figures:
                self._figures = update.figures
                print(f"         {' · '.join(update.figures)}", flush=True)
            self._phase = update.phase
            print(f"  {time.monotonic() - self._began:5.1f}s  {update.phase}", flush=True)
        if update.gone:
            print(f"vtui: error: {self.name} was removed while starting", file=sys.stderr)
            stopping.set()
        elif update.phase in (Phase.CRASHED, Phase.STOPPED):
            self._failed(update)
            stopping.set()
        elif update.models is not None and update.deployment is not None:
            url = update.deployment.base_url
            print(f"{self.name} is up: {update.progress}")
            print(
                f"  {url}/v1 serves {', '.join(update.models)}{_on(update.deployment.engine_host)}"
            )
            if update.deployment.engine_host != "local":
                print(
                    f"  from here: vtui chat --name {self.name} (vtui opens an ssh tunnel; the "
                    "port stays bound over there)"
                )
            print(f"  log: vtui logs {self.name} -f   stop: vtui down {self.name}")
            self.code = 0
            stopping.set()
        elif update.unreachable is not None:
            # Waiting would only run out the clock: nothing here can tell it is ready.
            print(
                f"vtui: error: {self.name} started, but vtui cannot reach it from here: "
                f"{update.unreachable}. It keeps starting there (vtui logs {self.name} -f)",
                file=sys.stderr,
            )
            stopping.set()
        elif time.monotonic() > self._deadline:
            print(
                f"vtui: error: {self.name} is not ready after {self._timeout:.0f}s; it keeps "
                f"starting (vtui logs {self.name} -f)",
                file=sys.stderr,
            )
            stopping.set()

    def _failed(self, update: WatchUpdate) -> None:
        print(f"vtui: error: {self.name} {update.progress}", file=sys.stderr)
        why = update.explanation
        if why is not None:
            print(f"  why: {why.cause}", file=sys.stderr)
            print(f"  fix: {why.fix}", file=sys.stderr)
            print(f"  from the log: {why.line}", file=sys.stderr)
        else:
            print(f"  see the log: vtui logs {self.name}", file=sys.stderr)
