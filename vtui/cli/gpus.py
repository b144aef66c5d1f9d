"""`vtui gpus`: one reading of every GPU, for people or (--json) for scripts."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vtui.backends.registry import Backends


def add_command(commands: Any) -> None:
    gpus = commands.add_parser(
        "gpus",
        help="every GPU's memory, load and processes, once",
        description="Read every GPU once through NVML (the library nvidia-smi uses): memory\n"
        "used / total, utilization, temperature, power, and the processes holding GPU\n"
        "memory with the container each runs in. Figures the GPU cannot give show as N/A\n"
        "(null in JSON). Exit 1 when NVML cannot be read, with the reason.",
        epilog="examples:\n  vtui gpus\n  vtui gpus --json | jq '.gpus[].memory_used_bytes'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gpus.set_defaults(run=run)
    gpus.add_argument("--json", action="store_true", help="print JSON (bytes, percent, W, MHz)")
    gpus.add_argument(
        "--host",
        metavar="NAME",
        help="a remote Docker host's GPUs (see `vtui hosts`): nvidia-smi in a short-lived "
        "container there, in a vLLM image it has",
    )


def run(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.errors import BackendUnavailable
    from vtui.core.gpu_report import snapshot_json, snapshot_lines
    from vtui.core.hosts import HostProblem
    from vtui.services.gpu_feed import read_host_gpus
    from vtui.services.hosts import checked_host

    try:
        host = checked_host(backends, args.host)
    except HostProblem as exc:
        print(f"vtui: error: {exc}", file=sys.stderr)
        return 1
    try:
        deployments = backends.engine.list_deployments()
    except BackendUnavailable:  # processes then go without their container names
        deployments = []
    source = backends.gpu.label if host in (None, "local") else f"nvidia-smi on {host}"
    try:
        snapshot, source = read_host_gpus(backends, host, deployments)
    except BackendUnavailable as exc:
        if args.json:
            print(json.dumps({"source": source, "error": exc.reason, "gpus": []}))
        print(f"vtui: error: GPU figures are unavailable: {exc.reason}", file=sys.stderr)
        return 1
    finally:
        backends.gpu.close()
    if args.json:
        print(json.dumps(snapshot_json(snapshot, source), indent=2))
    else:
        print("\n".join(snapshot_lines(snapshot, source)))
    return 0
