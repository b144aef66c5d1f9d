"""Checking a LaunchSpec before launch; each problem names the field it belongs to."""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from vtui.core import multinode
from vtui.core.arg_values import AUTO_FLAGS, AUTO_LENGTH, parse_value
from vtui.core.launch_spec import ENV_NAME, OWN_FIELDS, LaunchSpec
from vtui.core.model_facts import ModelFacts
from vtui.core.numbers import whole_number
from vtui.core.safe_names import PROFILE_NAME
from vtui.core.vllm_args import CATALOGUE, FLAG, FLOAT, INT, did_you_mean, lookup
from vtui.core.vllm_command import SECRET_ADVICE, SECRET_ENV, SECRET_FLAGS
from vtui.core.vllm_release import DEFAULT_IMAGE

# vLLM runs these quantizations in float16 only (their kernels' supported activation dtypes).
HALF_ONLY_QUANTIZATION = {"awq", "gptq"}
FP8_KV_MIN_CAPABILITY = (8, 9)  # Ada (8.9) and Hopper (9.0) have FP8 tensor cores
# Counts vLLM needs to be 1 or more, and sizes it needs to be 0 or more.
AT_LEAST_ONE = {
    "--max-model-len",
    "--tensor-parallel-size",
    "--pipeline-parallel-size",
    "--data-parallel-size",
    "--max-num-seqs",
    "--max-num-batched-tokens",
}
NOT_NEGATIVE = {"--cpu-offload-gb"}
# Arguments whose known values are the only ones vLLM takes (the catalogue lists them as
# suggestions because vLLM's parser sets no choices): cache_dtype is a pydantic-checked
# Literal in vllm/config/cache.py of the pinned release.
ONLY_KNOWN_VALUES = {"--kv-cache-dtype"}


@dataclass(frozen=True)
class Problem:
    field: str  # a vLLM flag ("--port") or a spec field ("model", "gpus", "extra")
    message: str
    # A warning does not stop a compose file from being written, only a launch from here.
    warning: bool = False
    # A caution stops nothing: it names a risk the user may take on purpose (a server open
    # to the network, remote code), so the form shows it and the launch goes ahead.
    caution: bool = False

    def __str__(self) -> str:
        tag = "caution: " if self.caution else "warning: " if self.warning else ""
        return f"{self.field}: {tag}{self.message}"

    @property
    def blocks_launch(self) -> bool:
        return not self.caution

    @property
    def blocks_compose(self) -> bool:
        """An error: no compose file is written, nor anything launched, until it is fixed."""
        return not self.warning and not self.caution


@dataclass(frozen=True)
class HostFacts:
    """What this machine says: GPUs, their lowest compute capability, ports taken."""

    gpu_count: int | None = None
    compute_capability: tuple[int, int] | None = None
    ports_in_use: frozenset[int] = field(default_factory=frozenset)
    # For a process profile: its vllm program, when it is not found here.
    missing_program: str | None = None
    # For a profile of several nodes: each node's host and its GPU count, where known.
    node_gpus: Mapping[str, int | None] = field(default_factory=dict)


def check(
    spec: LaunchSpec, host: HostFacts | None = None, model: ModelFacts | None = None
) -> list[Problem]:
    host = host or HostFacts()
    model = model or ModelFacts()
    problems = _spec_fields(spec, host)
    if host.missing_program:
        problems.append(
            Problem(
                "vllm_program",
                f"{host.missing_program}: no such program here; give the path to the vllm "
                "of the environment vLLM is installed in (e.g. ~/venvs/vllm/bin/vllm)",
            )
        )
    problems += _arg_values(spec)
    problems += _extra_args(spec)
    problems += [Problem(f, message) for f, message in multinode.problems(spec, host.node_gpus)]
    if not problems:  # the combinations only make sense once each value does
        problems += _combinations(spec, host, model)
    return problems + cautions(spec)


def cautions(spec: LaunchSpec) -> list[Problem]:
    """Risks vtui's defaults avoid, named where the user turned them on."""
    out = []
    try:
        open_to_network = not ipaddress.ip_address(spec.host).is_loopback
    except ValueError:
        open_to_network = False  # not an address at all: _spec_fields says so
    if open_to_network:
        out.append(
            Problem(
                "--host",
                f"{spec.host} publishes the server beyond this machine. The API key guards "
                "only /v1; vLLM also answers /invocations (chat), /tokenize and /metrics "
                "without it. Keep 127.0.0.1 and use an SSH tunnel unless a firewall "
                "stands in front.",
                caution=True,
            )
        )
    if spec.args.get("--trust-remote-code") is True:
        out.append(
            Problem(
                "--trust-remote-code",
                "runs Python code from the model's repo inside the container, with the "
                "container's access to your GPUs and HF cache; read the repo's code first.",
                caution=True,
            )
        )
    if spec.multinode:
        out.append(
            Problem(
                "worker_hosts",
                f"Ray listens on port {spec.ray_port} and others on every node, on all of "
                "its addresses and without a password: anyone who reaches them runs code "
                "there. Keep the nodes on a network of their own.",
                caution=True,
            )
        )
    if spec.image.strip() and not image_is_pinned(spec.image):
        out.append(
            Problem(
                "image",
                f"{spec.image} is not pinned to a release: the next pull "
                "can change what runs. Name a tag such as "
                f"{DEFAULT_IMAGE.rpartition(':')[2]} or a digest.",
                caution=True,
            )
        )
    return out


def image_is_pinned(image: str) -> bool:
    """True for name:tag (other than latest) or name@sha256:digest."""
    if "@" in image:
        return bool(re.fullmatch(r"[^@\s]+@sha256:[0-9a-f]{64}", image))
    last = image.rsplit("/", 1)[-1]  # a registry's host:port is not a tag
    name, _, tag = last.partition(":")
    return bool(name and tag and tag != "latest")


def _spec_fields(spec: LaunchSpec, host: HostFacts) -> list[Problem]:
    out = []
    if not PROFILE_NAME.fullmatch(spec.name):
        out.append(Problem("name", "use letters, digits, '.', '_' or '-' (at most 63)"))
    if not spec.model.strip():
        out.append(Problem("model", "give a Hub repo id (Qwen/Qwen3-8B) or a model directory"))
    elif spec.local and ":" in spec.model:
        out.append(Problem("model", "a directory with ':' in its name cannot be mounted"))
    if not spec.image.strip():
        out.append(Problem("image", f"name the vLLM image, such as {DEFAULT_IMAGE}"))
    if spec.hf_cache and (":" in spec.hf_cache or not spec.hf_cache.startswith("/")):
        out.append(Problem("hf_cache", "must be an absolute directory without ':'"))
    if not 1 <= spec.port <= 65535:
        out.append(Problem("--port", f"must be 1-65535, not {spec.port}"))
    elif spec.port in host.ports_in_use:
        out.append(
            Problem("--port", f"{spec.port} is already in use on this machine", warning=True)
        )
    try:
        ipaddress.ip_address(spec.host)
    except ValueError:
        out.append(
            Problem(
                "--host",
                f"{spec.host!r} is not an IP address (127.0.0.1 keeps it "
                "on this machine, 0.0.0.0 opens it to the network)",
            )
        )
    if isinstance(spec.gpus, tuple):
        if not spec.gpus:
            out.append(Problem("gpus", "choose at least one GPU, or all"))
        elif len(set(spec.gpus)) != len(spec.gpus):
            out.append(Problem("gpus", "a GPU is listed twice"))
        elif min(spec.gpus) < 0:
            out.append(Problem("gpus", "GPU indices start at 0 (see the GPU screen)"))
        elif host.gpu_count is not None and max(spec.gpus) >= host.gpu_count:
            out.append(
                Problem(
                    "gpus",
                    f"GPU {max(spec.gpus)} does not exist: this machine "
                    f"has {host.gpu_count} (0-{host.gpu_count - 1})",
                )
            )
    out += [
        Problem("env", f"{name!r} is not a valid variable name")
        for name in spec.env
        if not ENV_NAME.fullmatch(name)
    ]
    out += [Problem("env", f"{name}: {SECRET_ADVICE}") for name in spec.env if name in SECRET_ENV]
    return out


def _arg_values(spec: LaunchSpec) -> list[Problem]:
    out = []
    for flag, value in spec.args.items():
        arg = CATALOGUE.get(flag)
        if arg is None:
            out.append(Problem(flag, "not a vLLM argument" + did_you_mean(flag)))
            continue
        if flag in SECRET_FLAGS:
            out.append(Problem(flag, SECRET_ADVICE))
        elif flag in OWN_FIELDS:
            out.append(Problem(flag, "set by its own field, not as an argument"))
        elif value is None:
            continue
        elif arg.kind == FLAG and not isinstance(value, bool):
            out.append(Problem(flag, "expected on or off"))
        elif arg.kind == INT and not whole_number(value):
            out.append(Problem(flag, f"expected a whole number, not {value!r}"))
        elif arg.kind == FLOAT and (isinstance(value, bool) or not isinstance(value, (int, float))):
            out.append(Problem(flag, f"expected a number, not {value!r}"))
        elif arg.choices and isinstance(value, str) and value not in arg.choices:
            out.append(Problem(flag, f"expected one of {', '.join(arg.choices)}"))
        elif flag in ONLY_KNOWN_VALUES and arg.suggested and value not in arg.suggested:
            out.append(Problem(flag, f"expected one of {', '.join(arg.suggested)}"))
        elif flag in AUTO_FLAGS and value == AUTO_LENGTH:
            continue  # vLLM fits the length to the memory itself
        elif flag in AT_LEAST_ONE and isinstance(value, int) and value < 1:
            out.append(Problem(flag, f"must be at least 1, not {value}"))
        elif flag in NOT_NEGATIVE and isinstance(value, (int, float)) and value < 0:
            out.append(Problem(flag, f"must be 0 or more, not {value:g}"))
    return out


def _extra_args(spec: LaunchSpec) -> list[Problem]:
    out = []
    for token in spec.extra_args:
        if not token.startswith("-") or token == "-":
            continue
        arg = lookup(token)
        if arg is None:
            name = token.split("=")[0]
            out.append(Problem("extra", f"unknown vLLM argument {name}{did_you_mean(token)}"))
        elif arg.flag in SECRET_FLAGS:
            out.append(Problem("extra", f"{arg.flag}: {SECRET_ADVICE}"))
        elif arg.flag in OWN_FIELDS:
            out.append(Problem("extra", f"{arg.flag} has its own field; set it there"))
        elif arg.flag in spec.args:
            out.append(Problem("extra", f"{arg.flag} is already set in the form"))
    return out


def _combinations(spec: LaunchSpec, host: HostFacts, model: ModelFacts) -> list[Problem]:
    out = []
    args = spec.args
    util = args.get("--gpu-memory-utilization")
    if isinstance(util, (int, float)) and not 0 < util <= 1:
        out.append(
            Problem(
                "--gpu-memory-utilization",
                f"must be more than 0 and at most 1 (a fraction), not {util}",
            )
        )
    tp = _int(args.get("--tensor-parallel-size"), 1)
    pp = _int(args.get("--pipeline-parallel-size"), 1)
    gpus = len(spec.gpus) if isinstance(spec.gpus, tuple) else host.gpu_count
    # Across nodes, multinode.problems checks each node's share.
    if gpus is not None and tp * pp > gpus and not spec.multinode:
        out.append(
            Problem(
                "--tensor-parallel-size",
                f"tensor x pipeline parallel = {tp * pp}, but only "
                f"{'1 GPU is' if gpus == 1 else f'{gpus} GPUs are'} chosen",
            )
        )
    heads = model.num_attention_heads
    if heads and tp >= 1 and heads % tp:
        fits = [n for n in range(1, heads + 1) if heads % n == 0 and n <= (gpus or heads)]
        out.append(
            Problem(
                "--tensor-parallel-size",
                f"must divide the model's {heads} attention heads; try "
                + ", ".join(str(n) for n in fits[-3:]),
            )
        )
    max_len = args.get("--max-model-len")
    limit = model.max_position_embeddings
    if isinstance(max_len, int) and limit and max_len > limit and not model.rope_scaling:
        out.append(
            Problem(
                "--max-model-len",
                f"{max_len} is beyond the model's {limit} positions (it has no rope scaling)",
            )
        )
    quant, dtype = args.get("--quantization"), args.get("--dtype")
    if quant in HALF_ONLY_QUANTIZATION and dtype in ("bfloat16", "float32", "float"):
        out.append(Problem("--dtype", f"{quant} runs in float16 only; use float16 or auto"))
    kv = args.get("--kv-cache-dtype")
    cc = host.compute_capability
    if isinstance(kv, str) and kv.startswith("fp8") and cc and cc < FP8_KV_MIN_CAPABILITY:
        out.append(
            Problem(
                "--kv-cache-dtype",
                f"FP8 KV cache needs an Ada or Hopper GPU "
                f"(compute capability 8.9+); this one is "
                f"{cc[0]}.{cc[1]}",
            )
        )
    return out


def _int(value: object, default: int) -> int:
    return value if whole_number(value) else default


def split_extra(text: str) -> tuple[str, ...]:
    """The extra-arguments field, split as a shell would (ValueError on unbalanced quotes)."""
    return tuple(shlex.split(text))


__all__ = [
    "HostFacts",
    "ModelFacts",
    "Problem",
    "cautions",
    "check",
    "image_is_pinned",
    "parse_value",
    "split_extra",
]
