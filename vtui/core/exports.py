"""A launch profile as the things people deploy it with beyond one Docker engine: Kubernetes
objects (a Deployment, its Service and the HF cache's claim), a vLLM production-stack Helm
values entry, a LeaderWorkerSet when one replica spans nodes, and vLLM's run_cluster.sh
recipe for a Ray cluster by hand. Pure: objects as dicts and scripts as text; services/
exporting.py renders them with a YAML library and validates them before anything is written.

The vLLM arguments are the profile's, as the compose file has them (`vllm_arguments`, the
container's view), so every target runs the same command. The API key is never in an
export: the manifests name a Secret, the scripts read it from the shell.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from vtui.core.launch_spec import (
    CONTAINER_HF_CACHE,
    HF_TOKEN_VAR,
    NO_GPU,
    LaunchSpec,
    arg_tokens,
    literal_environment,
    ordered_args,
    vllm_arguments,
)
from vtui.core.vllm_args import FLAG
from vtui.core.vllm_release import API_KEY_VAR, CONTAINER_PORT

TARGETS = ("compose", "run", "serve", "k8s", "helm", "lws", "ray-cluster")
MANIFEST_TARGETS = ("k8s", "helm", "lws")
RAY_PORT = 6379
# Model loading takes minutes: the startup probe allows this long before liveness counts.
STARTUP_SECONDS = 1800
PROBE_PERIOD_S = 10
SHM_SIZE = "16Gi"  # NCCL and vLLM's workers share memory through /dev/shm
DOCKER_SHM = "16g"  # the same, as docker run spells it
DEFAULT_STORAGE = "200Gi"
API_KEY_SECRET_KEY = "api-key"
HF_TOKEN_SECRET = "hf-token"  # an optional Secret the user makes for gated models


class ExportProblem(ValueError):
    """The profile cannot be written for that target as it is; names the field."""


@dataclass(frozen=True)
class Layout:
    tensor: int
    pipeline: int

    @property
    def gpus(self) -> int:
        return self.tensor * self.pipeline

    @property
    def nodes(self) -> int:
        """vtui's rule for exports: tensor parallel inside a node, pipeline across nodes."""
        return self.pipeline


def _whole(spec: LaunchSpec, flag: str) -> int:
    value = spec.args.get(flag, 1)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ExportProblem(f"{flag} must be a whole number, not {value!r}")
    number = int(value)
    if number < 1:
        raise ExportProblem(f"{flag} must be at least 1")
    return number


def layout_of(spec: LaunchSpec) -> Layout:
    return Layout(_whole(spec, "--tensor-parallel-size"), _whole(spec, "--pipeline-parallel-size"))


def _one_node(spec: LaunchSpec, what: str) -> Layout:
    """The layout, when it fits one node (the targets that run one pod per replica)."""
    layout = layout_of(spec)
    if layout.nodes > 1:
        raise ExportProblem(
            f"--pipeline-parallel-size {layout.pipeline} spans {layout.nodes} nodes, which "
            f"one {what} cannot: export --to lws (a LeaderWorkerSet) or --to ray-cluster"
        )
    return layout


def k8s_name(name: str) -> str:
    """A profile name as a Kubernetes object name (an RFC 1123 label, room left for the
    suffixes vtui adds)."""
    text = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:40].strip("-")
    return text or "vllm"


def api_key_secret(name: str) -> str:
    """The Secret every manifest of profile `name` takes its API key from."""
    return f"{name}-api-key"


def secret_command(secret: str, key_file: str = "KEYFILE") -> str:
    """How the user makes that Secret from the profile's key file."""
    return f"kubectl create secret generic {secret} --from-file={API_KEY_SECRET_KEY}={key_file}"


def k8s_text(value: str) -> str:
    """A value Kubernetes reads literally: it expands $(VAR) in command, args and env
    values, and "$$" is its escape for "$"."""
    return value.replace("$", "$$")


def _labels(name: str, role: str | None = None) -> dict[str, str]:
    labels = {
        "app.kubernetes.io/name": "vllm",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": "vtui",
    }
    return labels | ({"vtui.io/role": role} if role else {})


def _refuse_local_model(spec: LaunchSpec, target: str) -> None:
    if spec.local:
        raise ExportProblem(
            f"model: {spec.model} is a directory on this machine, which a {target} export "
            "cannot carry: use a Hub repo id (the HF cache volume holds it), or put the "
            "directory on a volume and give its path in the pod"
        )


def _environment(spec: LaunchSpec, name: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": key, "value": k8s_text(value)} for key, value in literal_environment(spec).items()
    ]
    env.append(
        {
            "name": API_KEY_VAR,
            "valueFrom": {
                "secretKeyRef": {"name": api_key_secret(name), "key": API_KEY_SECRET_KEY}
            },
        }
    )
    env.append(
        {
            "name": HF_TOKEN_VAR,
            "valueFrom": {
                "secretKeyRef": {"name": HF_TOKEN_SECRET, "key": "token", "optional": True}
            },
        }
    )
    return env


def _gpu_resources(spec: LaunchSpec, count: int) -> dict[str, Any]:
    if spec.gpus == NO_GPU:
        return {}
    # Extended resources are requested by their limit (requests default to it).
    return {"limits": {"nvidia.com/gpu": count}}


def _probe(path: str, **extra: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": PROBE_PERIOD_S, **extra}


def _volumes(claim: str) -> list[dict[str, Any]]:
    return [
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": SHM_SIZE}},
        {"name": "hf-cache", "persistentVolumeClaim": {"claimName": claim}},
    ]


MOUNTS = [
    {"name": "dshm", "mountPath": "/dev/shm"},
    {"name": "hf-cache", "mountPath": CONTAINER_HF_CACHE},
]


def serve_args(spec: LaunchSpec) -> list[str]:
    """The vLLM arguments as the container takes them (the image's entrypoint serves)."""
    return vllm_arguments(spec, in_container=True)


def _serving_container(spec: LaunchSpec, name: str, gpus: int) -> dict[str, Any]:
    return {
        "name": "vllm",
        "image": spec.image,
        "args": [k8s_text(token) for token in serve_args(spec)],
        "ports": [{"name": "http", "containerPort": CONTAINER_PORT}],
        "env": _environment(spec, name),
        "resources": _gpu_resources(spec, gpus),
        "volumeMounts": [dict(m) for m in MOUNTS],
        "startupProbe": _probe("/health", failureThreshold=STARTUP_SECONDS // PROBE_PERIOD_S),
        "readinessProbe": _probe("/health", failureThreshold=3),
        "livenessProbe": _probe("/health", failureThreshold=6),
    }


def _claim(name: str, storage: str, access: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": f"{name}-hf-cache", "labels": _labels(name)},
        "spec": {"accessModes": [access], "resources": {"requests": {"storage": storage}}},
    }


def _service(name: str, selector: dict[str, str]) -> dict[str, Any]:
    # ClusterIP: reachable inside the cluster only, as the compose file binds 127.0.0.1.
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": CONTAINER_PORT, "targetPort": "http"}],
        },
    }


def k8s_objects(spec: LaunchSpec, storage: str = DEFAULT_STORAGE) -> list[dict[str, Any]]:
    """Deployment + Service + the HF cache's PersistentVolumeClaim, for a layout that fits
    one node. Raises ExportProblem."""
    _refuse_local_model(spec, "Kubernetes")
    layout = _one_node(spec, "Deployment pod")
    name = k8s_name(spec.name)
    pod_labels = _labels(name)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": pod_labels},
        "spec": {
            "replicas": 1,
            # Two copies of a model rarely fit the GPUs at once: the old pod goes first.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": pod_labels},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "containers": [_serving_container(spec, name, layout.gpus)],
                    "volumes": _volumes(f"{name}-hf-cache"),
                },
            },
        },
    }
    return [deployment, _service(name, pod_labels), _claim(name, storage, "ReadWriteOnce")]


def _ray_worker_container(spec: LaunchSpec, gpus: int) -> dict[str, Any]:
    join = f"ray start --address=$(LWS_LEADER_ADDRESS):{RAY_PORT} --block"
    return {
        "name": "ray-worker",
        "image": spec.image,
        "command": ["sh", "-c", join],
        "env": [_pod_ip_env()],
        "resources": _gpu_resources(spec, gpus),
        "volumeMounts": [dict(m) for m in MOUNTS],
    }


def _pod_ip_env() -> dict[str, Any]:
    # Ray and vLLM name each node by this address (run_cluster.sh sets it per node).
    return {"name": "VLLM_HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}


def ray_serve_args(spec: LaunchSpec) -> list[str]:
    """The profile's arguments, with Ray as the executor across the nodes."""
    args = serve_args(spec)
    if "--distributed-executor-backend" not in args:
        args += ["--distributed-executor-backend", "ray"]
    return args


def lws_object(spec: LaunchSpec) -> list[dict[str, Any]]:
    """A LeaderWorkerSet whose group is the layout's nodes: the leader starts the Ray head
    and serves, each worker joins it. Plus its Service and the shared HF cache claim."""
    _refuse_local_model(spec, "LeaderWorkerSet")
    layout = layout_of(spec)
    name = k8s_name(spec.name)
    serve = "vllm serve " + shlex.join(ray_serve_args(spec)[1:])  # the model goes first
    leader_script = f"ray start --head --port={RAY_PORT} && exec {serve}"
    leader = _serving_container(spec, name, layout.tensor)
    leader["command"] = ["sh", "-c", k8s_text(leader_script)]
    del leader["args"]
    leader["env"] = [*leader["env"], _pod_ip_env()]
    volumes = _volumes(f"{name}-hf-cache")
    lws = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {
            "replicas": 1,
            "leaderWorkerTemplate": {
                "size": layout.nodes,
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": {
                    "metadata": {"labels": _labels(name, "leader")},
                    "spec": {"containers": [leader], "volumes": volumes},
                },
                "workerTemplate": {
                    "metadata": {"labels": _labels(name, "worker")},
                    "spec": {
                        "containers": [_ray_worker_container(spec, layout.tensor)],
                        "volumes": volumes,
                    },
                },
            },
        },
    }
    # Every node reads the model: the cache must be shared (ReadWriteMany).
    selector = {"leaderworkerset.sigs.k8s.io/name": name, "vtui.io/role": "leader"}
    return [lws, _service(name, selector), _claim(name, DEFAULT_STORAGE, "ReadWriteMany")]


# What vtui maps onto production-stack's vllmConfig fields; the rest go to extraArgs.
HELM_CONFIG = {
    "--max-model-len": "maxModelLen",
    "--dtype": "dtype",
    "--enable-prefix-caching": "enablePrefixCaching",
    "--enable-chunked-prefill": "enableChunkedPrefill",
    "--tensor-parallel-size": "tensorParallelSize",
    "--gpu-memory-utilization": "gpuMemoryUtilization",
    "--max-num-seqs": "maxNumSeqs",
}


def _helm_config(spec: LaunchSpec) -> dict[str, Any]:
    """The profile's vLLM settings as vllmConfig fields where the chart has one (of the
    type its values.schema.json gives), the rest as extraArgs tokens."""
    config: dict[str, Any] = {}
    extra: list[str] = []
    for arg, value in ordered_args(spec):
        key = HELM_CONFIG.get(arg.flag)
        typed = isinstance(value, bool) if arg.kind == FLAG else not isinstance(value, bool)
        if (key == "dtype" and isinstance(value, str)) or (
            key is not None and typed and isinstance(value, int | float)
        ):
            config[key] = value
        else:
            extra += arg_tokens(arg, value)
    extra += list(spec.extra_args)
    if spec.served_name != spec.model:
        extra = ["--served-model-name", spec.served_name, *extra]
    if extra:
        config["extraArgs"] = extra
    return config


def helm_values(spec: LaunchSpec, storage: str = DEFAULT_STORAGE) -> dict[str, Any]:
    """One production-stack values.yaml with this profile as its modelSpec entry."""
    _refuse_local_model(spec, "Helm")
    layout = _one_node(spec, "production-stack modelSpec pod")
    name = k8s_name(spec.name)
    repository, _, tag = spec.image.rpartition(":")
    if not repository or "/" in tag:
        repository, tag = spec.image, "latest"
    entry: dict[str, Any] = {
        "name": name,
        "repository": repository,
        "tag": tag,
        "modelURL": spec.model,
        "replicaCount": 1,
        "requestCPU": 8,
        "requestMemory": "32Gi",
        "requestGPU": 0 if spec.gpus == NO_GPU else layout.gpus,
        "pvcStorage": storage,
        "vllmConfig": _helm_config(spec),
        "hf_token": {"secretName": HF_TOKEN_SECRET, "secretKey": "token"},
    }
    return {
        "servingEngineSpec": {
            "vllmApiKey": {"secretName": api_key_secret(name), "secretKey": API_KEY_SECRET_KEY},
            "modelSpec": [entry],
        }
    }


def ray_cluster_script(spec: LaunchSpec) -> str:
    """vLLM's run_cluster.sh recipe as one script: `head`, `worker HEAD_IP` on each other
    node, then `serve` on the head. TP inside each node, PP across them."""
    _refuse_local_model(spec, "Ray cluster")
    layout = layout_of(spec)
    name = k8s_name(spec.name)
    gpus = "" if spec.gpus == NO_GPU else " --gpus all"
    image = shlex.quote(spec.image)
    cache = shlex.quote(spec.hf_cache or "$HOME/.cache/huggingface")
    serve = shlex.join(["vllm", "serve", *ray_serve_args(spec)[1:]])
    run = (
        f"docker run -d --name {name}-ray --network host --shm-size {DOCKER_SHM}{gpus} "
        f'-v {cache}:{CONTAINER_HF_CACHE} -e VLLM_HOST_IP="$ip" -e {HF_TOKEN_VAR} '
        f"-e {API_KEY_VAR} --entrypoint /bin/sh {image} -c"
    )
    return f"""#!/bin/sh
# {spec.name} on a Ray cluster of {layout.nodes} node(s) x {layout.tensor} GPU(s), as vLLM's
# examples/online_serving/run_cluster.sh does it. Written by `vtui export --to ray-cluster`.
#   on the head node:        sh THIS head
#   on every other node:     sh THIS worker HEAD_IP
#   then, on the head:       VLLM_API_KEY=... sh THIS serve
# The same image and the model in the HF cache on every node; VLLM_HOST_IP is this node's
# address (NCCL_SOCKET_IFNAME / GLOO_SOCKET_IFNAME may be needed on multi-NIC hosts).
set -eu
ip=${{VLLM_HOST_IP:-$(hostname -I | cut -d' ' -f1)}}
case "${{1:-}}" in
head)
    {run} 'ray start --block --head --port={RAY_PORT}'
    ;;
worker)
    head=${{2:?give the head node address: sh $0 worker HEAD_IP}}
    {run} "ray start --block --address=$head:{RAY_PORT}"
    ;;
serve)
    : "${{{API_KEY_VAR}:?export {API_KEY_VAR} first: its key is in ~/.config/vtui/keys}}"
    docker exec -e {API_KEY_VAR} -d {name}-ray {serve}
    ;;
*)
    echo "usage: sh $0 head | worker HEAD_IP | serve" >&2
    exit 2
    ;;
esac
"""
