"""The fit check for one launch spec on this machine's GPUs: from the form to a FitRequest."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from vtui.core.arg_values import AUTO_LENGTH
from vtui.core.calibration import StartRecord, budget_of, key_of, newest_match
from vtui.core.fit import (
    DEFAULT_UTILIZATION,
    MIB,
    FitEstimate,
    FitRequest,
    auto_max_model_len,
    estimate,
)
from vtui.core.launch_spec import PROCESS, LaunchSpec
from vtui.core.model_shape import UnknownModel, shape
from vtui.core.records import GpuReading, ModelCheckpoint


@dataclass(frozen=True)
class GpuMemory:
    """The GPUs a launch would use, as the fit check needs them."""

    total_bytes: int  # the smallest of them: vLLM's budget is per GPU
    count: int
    name: str
    free_bytes: int | None = None
    # What holds memory on the chosen GPUs now ("vtui-qwen 71.7 GiB on GPU 0"), and the
    # free memory of each GPU not chosen (index, bytes): where the launch could go instead.
    holders: tuple[str, ...] = ()
    free_elsewhere: tuple[tuple[int, int], ...] = ()


def _own_mib(gpu: GpuReading, container: str) -> int:
    return sum(p.memory_used_mib or 0 for p in gpu.all_processes if p.container_name == container)


def _holders(chosen: Sequence[GpuReading], own: str) -> tuple[str, ...]:
    found = []
    for gpu in chosen:
        mine = [p for p in gpu.all_processes if p.container_name != own]
        for proc in sorted(mine, key=lambda p: -(p.memory_used_mib or 0)):
            who = proc.container_name or f"{proc.name or 'process'} (pid {proc.pid})"
            used = f" {proc.memory_used_mib / 1024:.1f} GiB" if proc.memory_used_mib else ""
            found.append(f"{who}{used} on GPU {gpu.index}")
    return tuple(found[:4])


def _free(gpu: GpuReading) -> int | None:
    if gpu.cuda_total_mib is None or gpu.memory_used_mib is None:
        return None
    return (gpu.cuda_total_mib - gpu.memory_used_mib) * MIB


def chosen_gpus(spec: LaunchSpec, gpus: Sequence[GpuReading]) -> list[GpuReading]:
    if spec.gpus == "all":
        return list(gpus)
    if isinstance(spec.gpus, str):  # "none"
        return []
    wanted = set(spec.gpus)
    return [g for g in gpus if g.index in wanted]


def gpu_memory(spec: LaunchSpec, gpus: Sequence[GpuReading]) -> GpuMemory | None:
    """None when none of the chosen GPUs reports its memory."""
    chosen = [g for g in chosen_gpus(spec, gpus) if g.cuda_total_mib]
    if not chosen:
        return None
    smallest = min(chosen, key=lambda g: g.cuda_total_mib or 0)
    # With every GPU visible, vLLM takes the first tensor x pipeline of them.
    wanted = (_int(spec.args.get("--tensor-parallel-size")) or 1) * (
        _int(spec.args.get("--pipeline-parallel-size")) or 1
    )
    taken = chosen[:wanted] if spec.gpus == "all" else chosen
    # The profile's own running server gives its memory back when it is replaced.
    free = [
        (g.cuda_total_mib or 0) - g.memory_used_mib + _own_mib(g, spec.container)
        for g in taken
        if g.memory_used_mib is not None
    ]
    chosen_indices = {g.index for g in taken}
    elsewhere = tuple(
        (g.index, free_bytes)
        for g in gpus
        if g.index not in chosen_indices and (free_bytes := _free(g)) is not None
    )
    return GpuMemory(
        total_bytes=(smallest.cuda_total_mib or 0) * MIB,
        count=len(chosen),
        name=smallest.name,
        free_bytes=min(free) * MIB if free and len(free) == len(taken) else None,
        holders=_holders(taken, spec.container),
        free_elsewhere=elsewhere,
    )


def _int(value: object) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _float(value: object) -> float | None:
    try:
        return float(value) if value is not None and value != "" else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


_TAG_VERSION = re.compile(r":v?(\d+\.\d+\.\d+)(?:$|[-+])")


def image_version(spec: LaunchSpec) -> str | None:
    """The vLLM release an image tag names (vllm/vllm-openai:v0.26.0); None when the tag
    does not say (latest, nightly) or the profile runs a program rather than an image."""
    if spec.runtime == PROCESS:
        return None
    found = _TAG_VERSION.search(spec.image)
    return found.group(1) if found else None


def fit_request(spec: LaunchSpec, memory: GpuMemory, *, check_free: bool = False) -> FitRequest:
    args = spec.args
    util = _float(args.get("--gpu-memory-utilization")) or DEFAULT_UTILIZATION
    quantization = args.get("--quantization")
    return FitRequest(
        gpu_total_bytes=memory.total_bytes,
        gpu_count=memory.count,
        gpu_name=memory.name,
        gpu_free_bytes=memory.free_bytes if check_free else None,
        gpu_holders=memory.holders if check_free else (),
        free_elsewhere=memory.free_elsewhere if check_free else (),
        utilization=util,
        tensor_parallel=_int(args.get("--tensor-parallel-size")) or 1,
        pipeline_parallel=_int(args.get("--pipeline-parallel-size")) or 1,
        max_model_len=_int(args.get("--max-model-len")),
        kv_cache_dtype=str(args.get("--kv-cache-dtype") or "auto"),
        dtype=str(args.get("--dtype") or "auto"),
        quantization=str(quantization) if quantization else None,
        enforce_eager=args.get("--enforce-eager") is True,
        max_num_seqs=_int(args.get("--max-num-seqs")),
        max_num_batched_tokens=_int(args.get("--max-num-batched-tokens")),
        cpu_offload_gib=_float(args.get("--cpu-offload-gb")) or 0.0,
        prefix_caching=args.get("--enable-prefix-caching") is not False,
        vllm_version=image_version(spec),
    )


def estimate_launch(
    spec: LaunchSpec,
    checkpoint: ModelCheckpoint,
    memory: GpuMemory,
    *,
    check_free: bool = False,
    learned: Sequence[StartRecord] = (),
) -> FitEstimate:
    """Raises UnknownModel when config.json cannot be counted. A start of the same launch
    on this machine (learned) replaces the estimate's budget terms with vLLM's own."""
    model = shape(checkpoint.config)
    request = fit_request(spec, memory, check_free=check_free)
    match = newest_match(learned, key_of(spec.model, request), image_version(spec))
    parameters = dict(checkpoint.dtype_parameters)
    auto_note: str | None = None
    if request.max_model_len == AUTO_LENGTH:
        # vLLM picks the longest length one request fits in; the estimate does the same.
        length, why = auto_max_model_len(
            model, replace(request, max_model_len=None), dtype_parameters=parameters, exact=True
        )
        request = replace(request, max_model_len=length)
        auto_note = f"max-model-len auto: about {length:,} tokens, set by {why}" if length else why
    fit = estimate(
        model,
        request,
        dtype_parameters=parameters,
        measured=None if match is None else budget_of(match),
    )
    return replace(fit, length_note=auto_note)


__all__ = [
    "GpuMemory",
    "UnknownModel",
    "chosen_gpus",
    "estimate_launch",
    "fit_request",
    "gpu_memory",
]
