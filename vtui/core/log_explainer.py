"""Why a vLLM container failed, in plain words, and the fix, read from its log or from the
Docker engine's error. Where the fix is a setting, it comes as (flag, value) so the Server
screen can apply it to the profile with one key.

Each rule matches the texts vLLM 0.33, transformers, huggingface_hub, NCCL and the Docker
engine print; tests check each against a real log excerpt (tests/data/logs/).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FailureContext:
    """What the explainer may use besides the log, to make a fix concrete."""

    gpu_count: int = 1
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    port: int = 8000


@dataclass(frozen=True)
class Explanation:
    rule: str
    cause: str
    fix: str
    line: str  # the line that told
    # A setting the fix changes in the profile: ("--max-model-len", 23552).
    setting: tuple[str, object] | None = None


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    explain: Callable[[re.Match[str], FailureContext], tuple[str, str, tuple[str, object] | None]]


def _round_down(tokens: int, step: int = 256) -> int:
    return max(step, tokens // step * step) if tokens >= step else tokens


def _kv_cache(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, tuple[str, object] | None]:
    wanted, fits = int(m.group("wanted")), int(m.group("fits") or 0)
    cause = (
        f"The KV cache cannot hold one request of max-model-len {wanted:,} tokens with the "
        "memory left after the weights."
    )
    if fits > 0:
        shorter = _round_down(fits)
        return (
            cause,
            f"Set max-model-len to {shorter:,} (what fits), or raise gpu-memory-utilization "
            f"above {ctx.gpu_memory_utilization:g}, or use more GPUs (tensor parallel).",
            ("--max-model-len", shorter),
        )
    return cause, "Lower max-model-len or raise gpu-memory-utilization.", None


def _no_blocks(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, tuple[str, object] | None]:
    higher = min(0.95, round(ctx.gpu_memory_utilization + 0.05, 2))
    return (
        "The weights and the profiling run left no GPU memory at all for the KV cache.",
        f"Raise gpu-memory-utilization to {higher:g} if nothing else uses the GPU, or serve "
        "a quantized variant, or split the model over more GPUs (tensor parallel).",
        ("--gpu-memory-utilization", higher) if higher > ctx.gpu_memory_utilization else None,
    )


def _placement_group(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, None]:
    wanted = m.group("gpus")
    asked = f"{float(wanted):g} GPUs" if wanted else "its GPUs"
    return (
        f"vLLM asked the Ray cluster for {asked} and Ray never had them: a worker node did "
        "not join, joined with fewer GPUs, or Ray knows a node by another address than its "
        "VLLM_HOST_IP.",
        "Run `ray status` in the head container: every node and its GPUs must be listed. "
        "Start the missing workers (ray start --address=HEAD:6379), give each node its own "
        "address in VLLM_HOST_IP, or ask for no more GPUs than the cluster has (tensor x "
        "pipeline parallel).",
        None,
    )


def _nodes_missing(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, None]:
    return (
        f"Only {m.group('n')} of the {m.group('want')} nodes joined the Ray head before it "
        "gave up waiting: a worker did not start, or cannot reach the head's address and "
        "Ray port.",
        "Check each worker's log (vtui ps lists them under the head) and that every worker "
        "host reaches the profile's head_address on its ray_port (firewalls, the address of "
        "the right network); then launch again.",
        None,
    )


def _cuda_oom(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, tuple[str, object] | None]:
    cause = "CUDA ran out of GPU memory: the model does not fit on the GPUs it was given."
    doubled = ctx.tensor_parallel_size * 2
    if doubled <= ctx.gpu_count:
        return (
            cause,
            f"Split it over {doubled} GPUs (tensor-parallel-size {doubled}), or serve a "
            "quantized variant (AWQ, GPTQ, FP8).",
            ("--tensor-parallel-size", doubled),
        )
    return (
        cause,
        "Serve a quantized variant (AWQ, GPTQ, FP8) or a smaller model; check that no other "
        "process holds GPU memory (the GPU screen lists them).",
        None,
    )


def _no_gpu_runtime(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, None]:
    return (
        "The Docker engine has no GPU runtime: it cannot hand a GPU to a container.",
        "Install the NVIDIA Container Toolkit, then `sudo nvidia-ctk runtime configure "
        "--runtime=docker` and `sudo systemctl restart docker`.",
        None,
    )


def _gated(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, None]:
    return (
        "The model is gated: the Hub refused to send its files without an accepted licence "
        "and a token.",
        "Accept its terms on the model page, then `hf auth login` or set HF_TOKEN where vtui "
        "runs (vtui hands it to the container by environment), and launch again.",
        None,
    )


def _port(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, tuple[str, object]]:
    other = ctx.port + 1
    return (
        f"Port {ctx.port} is already taken by another container or process.",
        f"Publish on another port ({other}), or stop what holds {ctx.port}.",
        ("port", other),
    )


def _shared_memory(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, tuple[str, object]]:
    return (
        "NCCL could not create its shared memory: the container's /dev/shm is too small "
        "for tensor parallelism.",
        "Run the container with the host's IPC namespace (ipc: host), as vtui does by "
        "default, or give it a larger shm size.",
        ("ipc_host", True),
    )


def _remote_code(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, tuple[str, object]]:
    return (
        "The model ships its own Python code, which vLLM runs only when told to trust it.",
        "Read the repo's code first; if you trust it, turn trust-remote-code on (it runs "
        "that code inside the container).",
        ("--trust-remote-code", True),
    )


def _architecture(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, None]:
    return (
        f"This vLLM release cannot run the {m.group('arch')} architecture.",
        "Use a newer vllm/vllm-openai image, or a model of a supported architecture "
        "(vLLM's docs list them).",
        None,
    )


def _chat_template(m: re.Match[str], ctx: FailureContext) -> tuple[str, str, None]:
    return (
        "The model's tokenizer has no chat template, so /v1/chat/completions cannot format "
        "messages (plain /v1/completions still works).",
        "Serve the model's instruct/chat variant, or pass --chat-template with a Jinja "
        "template file mounted into the container.",
        None,
    )


def _beyond_positions(
    m: re.Match[str], ctx: FailureContext
) -> tuple[str, str, tuple[str, object] | None]:
    derived = int(float(m.group("derived")))
    return (
        f"--max-model-len {int(m.group('wanted')):,} is longer than the model was trained "
        f"for: its config gives {m.group('key')} = {derived:,}, and vLLM refuses to start.",
        f"Set max-model-len to {derived:,} or less. A longer context needs rope scaling the "
        "model supports (its card says so), given with --hf-overrides.",
        ("--max-model-len", derived),
    )


RULES: tuple[_Rule, ...] = (
    _Rule("no-gpu-runtime", re.compile(r'could not select device driver ".*?" with capabilities'),
          _no_gpu_runtime),
    _Rule("port-in-use", re.compile(
        r"port is already allocated|address already in use|Only one usage of each socket"),
          _port),
    _Rule("kv-cache-too-small", re.compile(
        r"max seq len \((?P<wanted>\d+)\)(?:, \(| is larger than the maximum number of tokens "
        r"that can be stored in KV cache \((?P<old>\d+)\))(?:.*?estimated maximum model length "
        r"is (?P<fits>\d+))?"), _kv_cache),
    _Rule("max-len-beyond-positions", re.compile(
        r"User-specified max_model_len \((?P<wanted>\d+)\) is greater than the derived "
        r"max_model_len \((?P<key>\w+)=(?P<derived>[\d.]+)"), _beyond_positions),
    _Rule("no-cache-blocks", re.compile(r"No available memory for the cache blocks"), _no_blocks),
    _Rule("cuda-oom", re.compile(r"CUDA out of memory|OutOfMemoryError"), _cuda_oom),
    _Rule("gated-repo", re.compile(
        r"Cannot access gated repo|You are trying to access a gated repo|"
        r"Access to model \S+ is restricted"), _gated),
    _Rule("shared-memory", re.compile(
        r"Error while creating shared memory segment|ncclShmOpen|"
        r"NCCL error.*unhandled system error"), _shared_memory),
    _Rule("trust-remote-code", re.compile(
        r"requires you to execute the configuration file in that repo|contains custom code "
        r"which must be executed|set the option `trust_remote_code=True`"), _remote_code),
    _Rule("unsupported-architecture", re.compile(
        r"Model architectures \[?'?(?P<arch>[\w.]+)'?\]? are not supported for now"),
          _architecture),
    _Rule("ray-placement-group", re.compile(
        r"Cannot provide a placement group (?:requiring (?P<gpus>[\d.]+) GPUs|of )"),
          _placement_group),
    _Rule("ray-nodes-missing", re.compile(
        r"vtui: only (?P<n>\d+) of (?P<want>\d+) Ray nodes joined in \d+ s"), _nodes_missing),
    _Rule("no-chat-template", re.compile(r"default chat template is no longer allowed"),
          _chat_template),
)  # fmt: skip


def explain(lines: Iterable[str], context: FailureContext | None = None) -> Explanation | None:
    """The first known failure in the lines, or None. Later lines win over earlier ones only
    when no earlier line matched: the root cause comes first in a traceback."""
    ctx = context or FailureContext()
    for line in lines:
        for rule in RULES:
            m = rule.pattern.search(line)
            if m is None:
                continue
            if rule.name == "kv-cache-too-small" and m.group("old"):
                # vLLM before V1 printed the tokens that fit instead of an estimate.
                m = re.search(r"max seq len \((?P<wanted>\d+)\).*\((?P<fits>\d+)\)", line) or m
            cause, fix, setting = rule.explain(m, ctx)
            return Explanation(rule.name, cause, fix, line.strip()[:400], setting)
    return None
