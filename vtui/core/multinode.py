"""One model over several hosts, as vLLM's run_cluster.sh does it: a Ray head and one Ray
worker per other node, each a container on its host's network, tensor parallel inside a
node and pipeline parallel across them. The head waits until every node has joined (it
counts them with `ray status`, saying so in its log) and only then execs `vllm serve`, so
its log tells the whole start; vtui starts the head first, then the workers.

The vLLM arguments stay the container's command (the head's entrypoint is a short sh
script that ends in `exec vllm serve "$@"`), so what vtui reads back from a head is what it
reads from any deployment."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from vtui.core import labels
from vtui.core.hosts import LOCAL, HostProblem, host_name
from vtui.core.launch_spec import (
    HF_TOKEN_VAR,
    PROCESS,
    LaunchSpec,
    container_labels,
    literal_environment,
    vllm_arguments,
    volumes,
)
from vtui.core.numbers import whole_number
from vtui.core.records import RunRequest
from vtui.core.vllm_release import API_KEY_VAR

DEFAULT_RAY_PORT = 6379
# How long the head waits for every node before it gives up, in seconds (VTUI_NODE_WAIT in
# the profile's env changes it).
NODE_WAIT_S = 900
MAX_WORKERS = 63
# A DNS name: labels of letters, digits and '-', dot-separated.
DNS_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
# The line the head prints while it waits, and the one it ends with when nodes are missing:
# the start-up reader and the log explainer know both.
JOINED_LINE = "vtui: {n} of {want} Ray nodes joined"
MISSING_LINE = "vtui: only {n} of {want} Ray nodes joined in {waited} s"


@dataclass(frozen=True)
class NodeRequest:
    """One node's container: where it runs ("local" or a host's name) and what it runs."""

    host: str
    role: str  # labels.HEAD or "worker-N"
    request: RunRequest


def head_host(spec: LaunchSpec) -> str:
    return spec.docker_host or LOCAL


def node_count(spec: LaunchSpec) -> int:
    return 1 + len(spec.worker_hosts)


def _whole_arg(spec: LaunchSpec, flag: str) -> int:
    value = spec.args.get(flag, 1)
    return value if whole_number(value) and value >= 1 else 1


def address_problem(address: str) -> str | None:
    """Why `address` cannot be the head's address for the workers; None when it can."""
    if not address:
        return "name the address the workers reach the head at (its IP or DNS name)"
    try:
        ipaddress.ip_address(address)
        return None
    except ValueError:
        pass
    if DNS_NAME.fullmatch(address):
        return None
    return f"{address[:80]!r} is neither an IP address nor a DNS name"


def problems(
    spec: LaunchSpec, node_gpus: Mapping[str, int | None] | None = None
) -> list[tuple[str, str]]:
    """(field, message) for each reason this layout cannot run, before anything starts.
    `node_gpus`: each host's GPU count where it is known."""
    if not spec.multinode:
        return []
    out: list[tuple[str, str]] = []
    if spec.runtime == PROCESS:
        out.append(("worker_hosts", "a process profile runs on this machine only"))
    if len(spec.worker_hosts) > MAX_WORKERS:
        out.append(("worker_hosts", f"at most {MAX_WORKERS} worker hosts"))
    seen = {head_host(spec)}
    for name in spec.worker_hosts:
        try:
            host_name(name, "worker_hosts")
        except HostProblem as exc:
            out.append(("worker_hosts", str(exc).removeprefix("worker_hosts: ")))
            continue
        if name in seen:
            out.append(
                (
                    "worker_hosts",
                    f"{name} is named twice (each node is a host of its own, "
                    "and the head's host is one of them)",
                )
            )
        seen.add(name)
    why = address_problem(spec.head_address)
    if why:
        out.append(("head_address", why))
    if not 1 <= spec.ray_port <= 65535 or spec.ray_port == spec.port:
        out.append(("ray_port", f"must be 1-65535 and not the server's port, not {spec.ray_port}"))
    nodes = node_count(spec)
    tp = _whole_arg(spec, "--tensor-parallel-size")
    pp = _whole_arg(spec, "--pipeline-parallel-size")
    if pp != nodes:
        out.append(
            (
                "--pipeline-parallel-size",
                f"{nodes} nodes need --pipeline-parallel-size "
                f"{nodes} (tensor parallel inside a node, pipeline parallel across), not {pp}",
            )
        )
    if _whole_arg(spec, "--data-parallel-size") > 1:
        out.append(
            (
                "--data-parallel-size",
                "a Ray cluster here splits one model over its nodes; "
                "data-parallel replicas across hosts are profiles of their own",
            )
        )
    if isinstance(spec.gpus, tuple) and len(spec.gpus) < tp:
        out.append(
            (
                "--tensor-parallel-size",
                f"{tp} GPUs per node, but only {len(spec.gpus)} chosen on each",
            )
        )
    for host, count in (node_gpus or {}).items():
        if count is not None and count < tp:
            out.append(
                (
                    "--tensor-parallel-size",
                    f"tensor parallel {tp} does not fit inside one "
                    f"node: {host} has {count} GPU{'s' if count != 1 else ''}",
                )
            )
    return out


def _head_script(spec: LaunchSpec) -> str:
    want = node_count(spec)
    tp = _whole_arg(spec, "--tensor-parallel-size")
    ray = f"{spec.head_address}:{spec.ray_port}"
    joined = JOINED_LINE.format(n="$n", want=want)
    missing = MISSING_LINE.format(n="$n", want=want, waited="$waited")
    # POSIX sh: the image's own shell, whatever it is.
    return (
        f"ray start --head --port={spec.ray_port} --num-gpus={tp} || exit 1\n"
        "seen=-1; waited=0\n"
        "while :; do\n"
        f"  n=$(ray status --address={ray} 2>/dev/null | grep -c ' node_')\n"
        f'  if [ "$n" != "$seen" ]; then echo "{joined}"; seen=$n; fi\n'
        f'  [ "$n" -ge {want} ] && break\n'
        f'  if [ "$waited" -ge "${{VTUI_NODE_WAIT:-{NODE_WAIT_S}}}" ]; then\n'
        f'    echo "{missing}: start the workers, and check that they reach {ray}"\n'
        "    exit 3\n"
        "  fi\n"
        "  sleep 1; waited=$((waited + 1))\n"
        "done\n"
        'exec vllm serve "$@"\n'
    )


def _worker_script(ray: str, tp: int) -> str:
    # `ray start --address` fails at once while the head's GCS is not up yet, and vtui starts
    # the workers right after the head: wait for it first (as vLLM's multi-node-serving.sh
    # retries), then join once, so a head that dies later takes its workers with it.
    return (
        "waited=0\n"
        f"until ray status --address={ray} >/dev/null 2>&1; do\n"
        f'  if [ "$waited" -ge "${{VTUI_NODE_WAIT:-{NODE_WAIT_S}}}" ]; then\n'
        f'    echo "vtui: no Ray head answered at {ray} in $waited s"; exit 3\n'
        "  fi\n"
        "  sleep 1; waited=$((waited + 1))\n"
        "done\n"
        f"exec ray start --block --address={ray} --num-gpus={tp}\n"
    )


def serve_arguments(spec: LaunchSpec) -> list[str]:
    """The head's vLLM arguments: the profile's, listening where the profile publishes (the
    host's network has no port mapping), with Ray as the executor."""
    args = vllm_arguments(spec, in_container=True)
    at = args.index("--host")
    args[at + 1 : at + 4] = [spec.host, "--port", str(spec.port)]
    if "--distributed-executor-backend" not in args:
        args += ["--distributed-executor-backend", "ray"]
    return args


def _environment(spec: LaunchSpec, host_env: Mapping[str, str]) -> dict[str, str]:
    env = literal_environment(spec)
    if host_env.get(HF_TOKEN_VAR):
        env[HF_TOKEN_VAR] = host_env[HF_TOKEN_VAR]
    return env


def node_requests(spec: LaunchSpec, api_key: str, host_env: Mapping[str, str]) -> list[NodeRequest]:
    """The head's request, then each worker's, in the order they start."""
    tp = _whole_arg(spec, "--tensor-parallel-size")
    ray = f"{spec.head_address}:{spec.ray_port}"
    gpus = None if spec.gpus == "none" else spec.gpus
    group = {labels.GROUP: spec.name}
    head = RunRequest(
        image=spec.image,
        name=spec.container,
        command=tuple(serve_arguments(spec)),
        host=spec.host,
        host_port=spec.port,
        container_port=spec.port,
        # The API key only where vLLM serves; Ray finds its cluster by RAY_ADDRESS.
        environment=_environment(spec, host_env)
        | {API_KEY_VAR: api_key, "RAY_ADDRESS": ray, "VLLM_HOST_IP": spec.head_address},
        labels=container_labels(spec)
        | group
        | {labels.NODE: labels.HEAD, labels.LISTEN: f"{spec.host}:{spec.port}"},
        gpus=gpus,
        volumes=tuple(volumes(spec)),
        entrypoint=("/bin/sh", "-c", _head_script(spec), "vtui-ray-head"),
        host_network=True,
    )
    out = [NodeRequest(head_host(spec), labels.HEAD, head)]
    join = _worker_script(ray, tp)
    for index, host in enumerate(spec.worker_hosts, start=1):
        role = labels.worker_role(index)
        worker_labels = {
            labels.MANAGED: "true",
            labels.MODEL: spec.served_name,
            labels.NODE: role,
            labels.SPEC_HASH: spec.spec_hash(),
        } | group
        out.append(
            NodeRequest(
                host,
                role,
                RunRequest(
                    image=spec.image,
                    name=f"{spec.container}-{role}",
                    command=(),
                    host=spec.host,
                    host_port=0,
                    container_port=0,
                    environment=_environment(spec, host_env),
                    labels=worker_labels,
                    gpus=gpus,
                    volumes=tuple(volumes(spec)),
                    entrypoint=("/bin/sh", "-c", join),
                    host_network=True,
                ),
            )
        )
    return out


def node_commands(spec: LaunchSpec) -> str:
    """What each node's container runs, in the order vtui starts them: the Launch screen's
    preview of a profile over several hosts (one compose file cannot say it)."""
    import shlex

    parts = [
        f"# {spec.name} over {node_count(spec)} nodes (Ray): `vtui up {spec.name}` starts "
        "them in this order, each on its host's network"
    ]
    for node in node_requests(spec, "", {}):
        what = "serves once every node joined" if node.role == labels.HEAD else "joins the head"
        argv = [*(node.request.entrypoint or ()), *node.request.command]
        parts.append(f"\n# {node.role} on {node.host}: {what}\n{shlex.join(argv)}")
    return "\n".join(parts) + "\n"
