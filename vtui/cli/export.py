"""`vtui export`: a profile for the place it goes next (Kubernetes, Helm, a LeaderWorkerSet,
a Ray cluster by hand, or compose / docker run / vllm serve), validated before it is
printed or written."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from vtui.cli.arg_types import new_file
from vtui.cli.common import fail
from vtui.core.exports import TARGETS

if TYPE_CHECKING:
    from vtui.backends.registry import Backends

DESCRIPTION = """\
Write a launch profile for another way of running it, checked first:

  compose      docker-compose.yml (what `vtui compose` writes)
  run, serve   a `docker run` line, a `vllm serve` line
  k8s          Deployment + Service + a PersistentVolumeClaim for the HF cache: GPUs as
               nvidia.com/gpu, /health probes, a memory-backed /dev/shm, the API key from
               a Secret (never in the manifest), a ClusterIP Service
  helm         a vLLM production-stack values.yaml with the profile as its modelSpec
  lws          a LeaderWorkerSet when the layout spans nodes (pipeline parallel across
               nodes, tensor parallel inside each): Ray head on the leader, workers join
  ray-cluster  vLLM's run_cluster.sh recipe as one script: head, worker HEAD_IP, serve

Kubernetes objects are validated against the Kubernetes OpenAPI schemas for --k8s-version
(offline, strict), the Helm values against production-stack's fields, every vLLM flag
against vLLM's pinned argument catalogue. Nothing is written when a check fails."""
EPILOG = """\
examples:
  vtui export qwen --to k8s -o qwen.yaml && kubectl apply -f qwen.yaml
  vtui export qwen --to helm -o values.yaml
  vtui export big --to lws --k8s-version 1.31
  vtui export big --to ray-cluster -o cluster.sh"""


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export",
        help="a profile as Kubernetes, Helm, LeaderWorkerSet or Ray cluster files, validated",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(run=run)
    p.add_argument("profile", help="profile name (see `vtui profile list`)")
    p.add_argument("--to", required=True, choices=TARGETS, metavar="TARGET",
                   help=f"one of: {', '.join(TARGETS)}")  # fmt: skip
    p.add_argument(
        "-o", "--output", type=new_file, metavar="FILE",
        help="write it here (never over an existing file) instead of printing it",
    )  # fmt: skip
    p.add_argument("--k8s-version", default=None, metavar="X.Y",
                   help="the Kubernetes version to validate for (default: 1.33)")  # fmt: skip


def run(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.errors import ProfileError
    from vtui.core.exports import ExportProblem, secret_command
    from vtui.services.exporting import DEFAULT_K8S, model_facts_for, render, write_export

    try:
        spec = backends.profiles().load(args.profile)
        model = model_facts_for(backends, spec)
        done = render(spec, args.to, args.k8s_version or DEFAULT_K8S, model)
    except ProfileError as exc:
        return fail(exc, "vtui export")
    except ExportProblem as exc:
        return fail(f"{args.profile} --to {args.to}: {exc}", "vtui export")
    if args.output is None:
        print(done.text, end="")
        print(f"vtui export: validated against {done.validated_for}", file=sys.stderr)
        return 0
    try:
        path = write_export(backends, done, args.output)
    except FileExistsError:
        return fail(f"{args.output} exists; vtui does not overwrite it (remove it or name "
                    "another)", "vtui export")  # fmt: skip
    except OSError as exc:
        return fail(f"cannot write {args.output}: {exc.strerror or exc}", "vtui export")
    print(f"wrote {path}: validated against {done.validated_for}")
    if done.secret:
        key = backends.profiles().key_path(spec.name)
        print(f"first: {secret_command(done.secret, str(key))}")
    return 0
