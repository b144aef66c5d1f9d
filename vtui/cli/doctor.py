"""`vtui doctor`: is this machine ready to serve a model, and if not, what to do."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vtui.backends.registry import Backends


def add_command(commands: Any) -> None:
    from vtui.cli.arg_types import port, repo_id

    doctor = commands.add_parser(
        "doctor",
        help="check Docker, the NVIDIA runtime, the GPUs, disk, the Hub and the port",
        description="Check everything serving a model needs, each with pass / warn / fail,\n"
        "the reason and the exact fix for this distribution: Docker Engine reachable\n"
        "(socket, permission, version), the NVIDIA runtime registered in Docker, a GPU\n"
        "container starting (`nvidia-smi -L` with --gpus all, in an image already here),\n"
        "the NVIDIA driver through NVML, free disk in the HF cache and Docker's data root,\n"
        "the Hub (or HF_ENDPOINT) answering, a Hub token set (never shown) and, with\n"
        "--repo, whether it reads that gated repo, the port free, the pinned vLLM image\n"
        "here, and /dev/shm. Exit 0 when nothing fails (warnings allowed), else 1.",
        epilog="examples:\n  vtui doctor\n  vtui doctor --repo meta-llama/Llama-3.1-8B-Instruct\n"
        "  vtui doctor --json | jq '.checks[] | select(.status != \"pass\")'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    doctor.set_defaults(run=run)
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    doctor.add_argument(
        "--repo",
        type=repo_id,
        metavar="OWNER/NAME",
        help="a gated repo the Hub token must be able to read",
    )
    doctor.add_argument(
        "--port", type=port, default=8000, metavar="N", help="the port vLLM will take (8000)"
    )
    doctor.add_argument(
        "--no-gpu-run",
        action="store_true",
        help="do not start the short `nvidia-smi -L` container",
    )


def run(args: argparse.Namespace, backends: Backends) -> int:
    import shutil

    from vtui.core.doctor import as_json, diagnose, report_lines
    from vtui.services.doctoring import gather

    try:
        facts = gather(backends, args.repo, args.port, not args.no_gpu_run)
        report = diagnose(facts)
    finally:
        backends.gpu.close()
    if args.json:
        print(json.dumps(as_json(report), indent=2))
    else:
        where = facts.distro.pretty or "this machine"
        width = shutil.get_terminal_size((100, 24)).columns
        title = where + (" (demo)" if backends.demo else "")
        print("\n".join(report_lines(report, title, width)))
    return report.exit_code
