"""One launch, described once: what to serve, with which vLLM arguments, where, on which GPUs.

Everything that starts or describes a vLLM server is derived from a LaunchSpec: the
compose file, the `docker run` and `vllm serve` lines, and the engine's RunRequest.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace

from vtui.core import labels
from vtui.core.records import RunRequest
from vtui.core.vllm_args import CATALOGUE, FLAG, FORM_FLAGS, JSON, ArgSpec
from vtui.core.vllm_release import API_KEY_VAR, CONTAINER_PORT, DEFAULT_IMAGE

CONTAINER_MODEL_DIR = "/app/model"
CONTAINER_HF_CACHE = "/root/.cache/huggingface"
HF_TOKEN_VAR = "HF_TOKEN"
# Set by the spec itself, never through `args`: each has its own field.
OWN_FIELDS = frozenset({"--model", "--served-model-name", "--host", "--port", "--api-key"})
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # matched whole (fullmatch)


NO_GPU = "none"


def is_local_model(model: str) -> bool:
    return model.startswith(("/", "./", "../", "~"))


RUNTIMES = ("docker", "process")
PROCESS = "process"


@dataclass(frozen=True)
class LaunchSpec:
    name: str
    model: str  # a Hub repo id, or a directory on the host (mounted at /app/model)
    image: str = DEFAULT_IMAGE
    # "all", GPU indices, or "none" (no GPU request: a CPU build of vLLM, or the simulator)
    gpus: str | tuple[int, ...] = "all"
    container_name: str = ""  # empty: vtui-<name>
    host: str = "127.0.0.1"  # where the port is published; 0.0.0.0 opens it to the network
    port: int = 8000
    served_model_name: str = ""  # empty: the repo id, or the local directory's name
    # The host's HF_HOME, mounted so the container and `hf download` share one cache and
    # nothing downloads twice; an absolute path (profiles fill it in), or "" for none.
    hf_cache: str = ""
    offline: bool | None = None  # None: offline exactly when the model is a local directory
    env: Mapping[str, str] = field(default_factory=dict)
    args: Mapping[str, object] = field(default_factory=dict)  # vLLM flag -> value
    extra_args: tuple[str, ...] = ()  # further vLLM arguments, as typed
    # "docker" (a container of `image`) or "process" (`vllm_program serve ...` run here,
    # from a venv, conda or a module system).
    runtime: str = "docker"
    vllm_program: str = "vllm"
    # The Docker host it runs on by default (see `vtui hosts`); "" for this machine.
    docker_host: str = ""
    # Several nodes (multinode.py): the hosts of the Ray workers, one node each, besides the
    # head (docker_host); the address they reach the head at; the head's Ray port.
    worker_hosts: tuple[str, ...] = ()
    head_address: str = ""
    ray_port: int = 6379

    @property
    def multinode(self) -> bool:
        return bool(self.worker_hosts)

    @property
    def local(self) -> bool:
        return is_local_model(self.model)

    @property
    def container(self) -> str:
        return self.container_name or f"vtui-{self.name}"

    @property
    def served_name(self) -> str:
        if self.served_model_name:
            return self.served_model_name
        if self.local:
            return posixpath.basename(self.model.rstrip("/")) or "model"
        return self.model

    @property
    def is_offline(self) -> bool:
        return self.local if self.offline is None else self.offline

    @property
    def published_port(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}:{CONTAINER_PORT}"

    def spec_hash(self) -> str:
        """Names this exact configuration, for the container label that tells them apart."""
        fields = asdict(self)
        if not self.multinode:  # one node: the same hash as before vtui knew of clusters
            for key in ("worker_hosts", "head_address", "ray_port"):
                del fields[key]
        data = json.dumps(fields, sort_keys=True, default=str)
        return hashlib.sha256(data.encode()).hexdigest()[:16]


def with_setting(spec: LaunchSpec, flag: str, value: object) -> LaunchSpec:
    """The spec with one vLLM flag set, as a fix from the log explainer sets it."""
    if flag == "--port" and isinstance(value, int):
        return replace(spec, port=value)
    if flag == "gpus":
        gpus = parse_gpus(str(value))
        return spec if gpus is None else replace(spec, gpus=gpus)
    return replace(spec, args={**spec.args, flag: value})


def parse_gpus(text: str) -> str | tuple[int, ...] | None:
    """ "all" (or nothing) for every GPU, "none", or indices such as 0,1; None when it is
    none of these."""
    text = text.strip().lower()
    if text in ("", "all"):
        return "all"
    if text == NO_GPU:
        return NO_GPU
    try:
        return tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        return None


def format_gpus(gpus: str | tuple[int, ...]) -> str:
    return gpus if isinstance(gpus, str) else ",".join(str(i) for i in gpus)


def arg_tokens(spec: ArgSpec, value: object) -> list[str]:
    """One vLLM argument as command-line tokens (nothing when it says "leave it to vLLM")."""
    if value is None:
        return []
    if spec.kind == FLAG:
        if value is True:
            return [spec.flag]
        return [spec.negative_flag] if spec.negative_flag else []
    if spec.many and isinstance(value, (list, tuple)):
        return [spec.flag, *(str(v) for v in value)]
    if spec.kind == JSON and not isinstance(value, str):
        return [spec.flag, json.dumps(value, separators=(",", ":"), ensure_ascii=False)]
    return [spec.flag, repr(value) if isinstance(value, float) else str(value)]


def ordered_args(spec: LaunchSpec) -> list[tuple[ArgSpec, object]]:
    """The set vLLM arguments in the form's order (exports map some onto their fields)."""
    # The form's order first, so the same settings always give the same command line.
    rank = {flag: i for i, flag in enumerate(FORM_FLAGS)}
    chosen = [(CATALOGUE[f], v) for f, v in spec.args.items() if f not in OWN_FIELDS]
    return sorted(chosen, key=lambda item: rank.get(item[0].flag, len(rank)))


def vllm_arguments(spec: LaunchSpec, *, in_container: bool) -> list[str]:
    """The arguments after `vllm serve` (or the image's entrypoint)."""
    if in_container:
        model = CONTAINER_MODEL_DIR if spec.local else spec.model
        # Inside the container vLLM must listen on all interfaces; what the host exposes
        # is decided by the published port.
        host, port = "0.0.0.0", CONTAINER_PORT
    else:
        model, host, port = spec.model, spec.host, spec.port
    argv = ["--model", model]
    if spec.served_name != model:
        argv += ["--served-model-name", spec.served_name]
    argv += ["--host", host, "--port", str(port)]
    for arg, value in ordered_args(spec):
        argv += arg_tokens(arg, value)
    return argv + list(spec.extra_args)


def literal_environment(spec: LaunchSpec) -> dict[str, str]:
    """Environment values the spec sets outright (no secrets among them)."""
    env = {"LC_ALL": "C.UTF-8"}
    if spec.is_offline:
        env |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env |= dict(spec.env)
    return env


def volumes(spec: LaunchSpec) -> list[tuple[str, str, str]]:
    """(host path, container path, mode) for each mount."""
    mounts = []
    if spec.local:
        mounts.append((spec.model, CONTAINER_MODEL_DIR, "ro"))
    if spec.hf_cache:
        mounts.append((spec.hf_cache, CONTAINER_HF_CACHE, "rw"))
    return mounts


def container_labels(spec: LaunchSpec) -> dict[str, str]:
    return labels.vtui_labels(spec.served_name, spec.name) | {labels.SPEC_HASH: spec.spec_hash()}


def run_request(spec: LaunchSpec, api_key: str, host_env: Mapping[str, str]) -> RunRequest:
    """What the engine needs to start this spec; the key and HF_TOKEN go in by environment."""
    environment = literal_environment(spec) | {API_KEY_VAR: api_key}
    if host_env.get(HF_TOKEN_VAR):
        environment[HF_TOKEN_VAR] = host_env[HF_TOKEN_VAR]
    if spec.runtime == PROCESS:
        serve = vllm_arguments(spec, in_container=False)
        return RunRequest(
            image=spec.vllm_program,
            name=spec.container,
            # `vllm serve MODEL ...`: the model goes first, as vLLM's own CLI takes it.
            command=("serve", serve[1], *serve[2:]),
            host=spec.host,
            host_port=spec.port,
            container_port=spec.port,
            environment=environment,
            labels=container_labels(spec),
            gpus=None if spec.gpus == NO_GPU else spec.gpus,
            runtime=PROCESS,
        )
    return RunRequest(
        image=spec.image,
        name=spec.container,
        command=tuple(vllm_arguments(spec, in_container=True)),
        host=spec.host,
        host_port=spec.port,
        container_port=CONTAINER_PORT,
        environment=environment,
        labels=container_labels(spec),
        gpus=None if spec.gpus == NO_GPU else spec.gpus,
        volumes=tuple(volumes(spec)),
        ipc_host=True,
    )
