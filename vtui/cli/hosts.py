"""`vtui hosts`: every Docker host vtui can reach, and how it answers now."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vtui.backends.registry import Backends

EPILOG = """\
where hosts come from:
  local           this machine's engine (DOCKER_HOST when set)
  Docker contexts what `docker context ls` lists (docker context create gpu-3 \\
                  --docker host=ssh://me@gpu-3)
  config.toml     ~/.config/vtui/config.toml, one table each:
                    [hosts.gpu-3]
                    docker = "ssh://me@gpu-3"        # or tcp://gpu-3:2376 with:
                    # tls_ca = "/etc/vtui/ca.pem"  tls_cert = "..."  tls_key = "..."

ssh:// hosts are reached with this machine's `ssh` (your ~/.ssh/config, agent and jump
hosts count), never asking for a password: use a key. The far side needs Docker's CLI.

examples:
  vtui hosts
  vtui ps --host gpu-3
  vtui up qwen --host gpu-3
"""


def add_command(commands: Any) -> None:
    hosts = commands.add_parser(
        "hosts",
        help="the Docker hosts vtui can reach, and how each answers",
        description="List every Docker host: this machine's engine, the Docker CLI's\n"
        "contexts and the [hosts.NAME] tables of vtui's config.toml, each asked at once\n"
        "(each with its own deadline): reachable or why not, its engine, its deployments.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hosts.set_defaults(run=run)
    hosts.add_argument("--json", action="store_true", help="one JSON list instead of a table")


def run(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.terminal_text import visible
    from vtui.core.units import plural
    from vtui.services.hosts import survey

    _deployments, states = survey(backends)
    problems = backends.hosts.problems if backends.hosts is not None else []
    if args.json:
        rows = [
            {
                "name": s.host.name,
                "source": s.host.source,
                "docker": s.host.docker,
                "current": s.host.current,
                "reachable": s.reachable,
                "engine": s.engine,
                "error": s.error,
                "deployments": s.deployments if s.reachable else None,
            }
            for s in states
        ]
        print(json.dumps({"hosts": rows, "problems": problems}, indent=2))
        return 0
    print(f"{'HOST':16} {'SOURCE':11} {'ADDRESS':36} STATE")
    for s in states:
        mark = "*" if s.host.current else " "
        if s.reachable:
            state = f"reachable: {s.engine} \u00b7 {plural(s.deployments, 'deployment')}"
        elif s.error:
            state = f"unreachable: {s.error}"
        else:
            state = "no answer yet"
        print(f"{s.host.name + mark:16} {s.host.source:11} {visible(s.host.docker):36} {state}")
    for line in problems:
        print(f"vtui: warning: {line}", file=sys.stderr)
    return 0
