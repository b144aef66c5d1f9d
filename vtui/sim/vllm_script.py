"""What a vLLM server prints while it starts, and how it decides to fail.

The memory arithmetic follows vLLM's V1 engine: weights are split over the
tensor-parallel ranks, the engine may use gpu_memory_utilization x the card,
the rest after weights and the profiling peak becomes KV cache, and start-up
fails when one request of max_model_len tokens does not fit in it. The error
texts are vLLM's own, so log understanding can be tested against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from vtui.core.fit import DEFAULT_UTILIZATION
from vtui.core.kv_cache import GIB, bytes_per_token
from vtui.core.vllm_release import VLLM_VERSION
from vtui.sim.catalogue import SimModel

BLOCK_SIZE = 16
# What the profiling run leaves allocated besides weights (activations, NCCL, allocator slack).
PROFILE_PEAK_GIB = 1.45
# How vLLM 0.26+ splits that peak in its budget line: activations, non-torch, CUDA graphs.
PEAK_PARTS_GIB = (0.9, 0.25, 0.3)
CUDA_GRAPH_GIB = 0.61
API_PID, ENGINE_PID = 1, 120

FAILURES = ("kv-cache", "no-cache-blocks", "oom")


@dataclass(frozen=True)
class SimServerConfig:
    model: str
    served_model_name: str
    profile: SimModel
    host: str = "0.0.0.0"
    port: int = 8000
    max_model_len: int | None = None
    gpu_memory_utilization: float = DEFAULT_UTILIZATION
    tensor_parallel_size: int = 1
    gpu_memory_gib: float = 79.19  # what torch reports for an H100 80GB
    api_key_set: bool = False
    fail: str | None = None
    extra_args: dict[str, object] = field(default_factory=dict)

    @property
    def dummy_weights(self) -> bool:
        """--load-format dummy: random weights, so no checkpoint shards are read."""
        return self.extra_args.get("load_format") == "dummy"

    @property
    def context_length(self) -> int:
        return self.max_model_len or self.profile.max_context


@dataclass(frozen=True)
class MemoryPlan:
    weights_gib: float
    requested_gib: float
    kv_available_gib: float
    kv_needed_gib: float
    kv_tokens: int
    max_fitting_len: int
    outcome: str  # "ok" or one of FAILURES


def plan_memory(config: SimServerConfig) -> MemoryPlan:
    tp = max(1, config.tensor_parallel_size)
    weights = config.profile.size_bytes / tp / GIB
    requested = config.gpu_memory_gib * config.gpu_memory_utilization
    available = requested - weights - PROFILE_PEAK_GIB
    per_token = bytes_per_token(config.profile.kv_layout, tensor_parallel=tp)
    needed = config.context_length * per_token / GIB
    tokens = max(0, int(available * GIB / per_token) // BLOCK_SIZE * BLOCK_SIZE)
    if config.fail:
        outcome = config.fail
    elif weights > config.gpu_memory_gib - 0.5:
        outcome = "oom"
    elif available <= 0:
        outcome = "no-cache-blocks"
    elif needed > available:
        outcome = "kv-cache"
    else:
        outcome = "ok"
    if outcome == "kv-cache" and needed <= available:
        # A forced failure still has to print a consistent story: shrink what is left.
        available = needed * 0.5
        tokens = int(available * GIB / per_token) // BLOCK_SIZE * BLOCK_SIZE
    return MemoryPlan(weights, requested, available, needed, tokens, tokens, outcome)


@dataclass(frozen=True)
class LogStep:
    """One printed line; `delay` is the share of start-up time spent before it."""

    delay: float
    message: str
    process: str | None = "api"  # "api", "engine" or None for a bare line
    level: str = "INFO"
    source: str = "api_server.py:1839"


def format_line(step: LogStep, when: datetime) -> str:
    if step.process is None:
        return step.message
    proc = (
        f"(APIServer pid={API_PID})"
        if step.process == "api"
        else (f"(EngineCore_DP0 pid={ENGINE_PID})")
    )
    if step.source == "uvicorn":
        return f"{proc} {step.level}:     {step.message}"
    return f"{proc} {step.level} {when:%m-%d %H:%M:%S} [{step.source}] {step.message}"


def _engine(message: str, source: str, delay: float = 0.02, level: str = "INFO") -> LogStep:
    return LogStep(delay, message, "engine", level, source)


def _api(message: str, source: str, delay: float = 0.01, level: str = "INFO") -> LogStep:
    return LogStep(delay, message, "api", level, source)


def _non_default_args(config: SimServerConfig) -> str:
    args: dict[str, object] = {"model_tag": config.model, "host": config.host}
    if config.api_key_set:
        args["api_key"] = ["***"]
    args["model"] = config.model
    if config.served_model_name != config.model:
        args["served_model_name"] = [config.served_model_name]
    if config.max_model_len:
        args["max_model_len"] = config.max_model_len
    if config.gpu_memory_utilization != DEFAULT_UTILIZATION:
        args["gpu_memory_utilization"] = config.gpu_memory_utilization
    if config.tensor_parallel_size != 1:
        args["tensor_parallel_size"] = config.tensor_parallel_size
    args.update(config.extra_args)
    return repr(args)


def startup_steps(config: SimServerConfig) -> list[LogStep]:
    """Every line up to "Application startup complete." or the fatal error."""
    plan = plan_memory(config)
    profile = config.profile
    steps = [
        LogStep(0.0, "INFO {when} [__init__.py:216] Automatically detected platform cuda.", None),
        _api(f"vLLM API server version {VLLM_VERSION}", "api_server.py:1839", 0.08),
        _api(f"non-default args: {_non_default_args(config)}", "utils.py:233"),
        _api(f"Resolved architecture: {profile.architecture}", "model.py:547", 0.05),
        _api(f"Using max model len {config.context_length}", "model.py:1510"),
        _api("Chunked prefill is enabled with max_num_batched_tokens=8192.", "scheduler.py:205"),
        _engine("Waiting for init message from front-end.", "core.py:644", 0.05),
        _engine(
            f"Initializing a V1 LLM engine (v{VLLM_VERSION}) with config: model='{config.model}', "
            f"tokenizer='{config.model}', dtype=torch.bfloat16, "
            f"max_seq_len={config.context_length}, "
            f"tensor_parallel_size={config.tensor_parallel_size}, pipeline_parallel_size=1, "
            f"served_model_name={config.served_model_name}, enable_prefix_caching=True",
            "core.py:77",
        ),
        _engine(
            "rank 0 in world size 1 is assigned as DP rank 0, PP rank 0, TP rank 0, EP rank 0",
            "parallel_state.py:1208",
        ),
        _engine(f"Starting to load model {config.model}...", "gpu_model_runner.py:2602", 0.03),
        _engine("Using Flash Attention backend on V1 engine.", "cuda.py:366"),
    ]
    if plan.outcome == "oom":
        return steps + _oom_failure(config, plan)
    shards = profile.shards
    if not config.dummy_weights:
        steps.append(
            LogStep(
                0.15,
                (
                    f"Loading safetensors checkpoint shards: 100% Completed | {shards}/{shards} "
                    f"[00:0{min(9, shards)}<00:00,  1.10it/s]"
                ),
                None,
            )
        )
    steps += [
        _engine(f"Loading weights took {1.1 + shards * 0.65:.2f} seconds", "default_loader.py:267"),
        _engine(
            f"Model loading took {plan.weights_gib:.4f} GiB and {1.6 + shards * 0.7:.6f} seconds",
            "gpu_model_runner.py:2653",
        ),
        _engine(
            "Using cache directory: /root/.cache/vllm/torch_compile_cache/5d2a0c18e4/rank_0_0/"
            "backbone for vLLM's torch.compile",
            "backends.py:548",
            0.05,
        ),
        _engine("torch.compile takes 9.21 s in total", "monitor.py:34", 0.2),
    ]
    if plan.outcome == "no-cache-blocks":
        return steps + _engine_failure(
            "ValueError: No available memory for the cache blocks. Try increasing "
            "`gpu_memory_utilization` when initializing the engine."
        )
    steps.append(
        _engine(
            f"Estimated CUDA graph memory: {PEAK_PARTS_GIB[2]:.2f} GiB total",
            "gpu_model_runner.py:6737",
        )
    )
    steps.append(
        _engine(f"Available KV cache memory: {plan.kv_available_gib:.2f} GiB", "gpu_worker.py:298")
    )
    if plan.outcome == "kv-cache":
        return steps + _engine_failure(
            "ValueError: To serve at least one request with the models's max seq len "
            f"({config.context_length}), ({plan.kv_needed_gib:.2f} GiB KV cache is needed, "
            "which is larger than the available KV cache memory "
            f"({plan.kv_available_gib:.2f} GiB). Based on the available memory, the estimated "
            f"maximum model length is {plan.max_fitting_len}. Try increasing "
            "`gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine."
        )
    concurrency = plan.kv_tokens / config.context_length
    blocks = plan.kv_tokens // BLOCK_SIZE
    steps += [
        _engine(f"GPU KV cache size: {plan.kv_tokens:,} tokens", "kv_cache_utils.py:1087"),
        _engine(
            f"Maximum concurrency for {config.context_length:,} tokens per request: "
            f"{concurrency:.2f}x",
            "kv_cache_utils.py:1091",
        ),
        _engine(_budget_line(config, plan), "gpu_worker.py:857"),
        LogStep(
            0.1,
            (
                "Capturing CUDA graphs (mixed prefill-decode, PIECEWISE): 100%|##########| "
                "67/67 [00:04<00:00, 15.18it/s]"
            ),
            None,
        ),
        _engine(
            f"Graph capturing finished in 5 secs, took {CUDA_GRAPH_GIB:.2f} GiB",
            "gpu_model_runner.py:3480",
        ),
        _engine(
            "init engine (profile, create kv cache, warmup model) took 21.40 seconds",
            "core.py:210",
        ),
        _api(
            "Engine 000: vllm cache_config_info with initialization after num_gpu_blocks is: "
            f"{blocks}",
            "loggers.py:147",
        ),
        _api("Supported_tasks: ['generate']", "api_server.py:1634"),
        _api(
            f"Starting vLLM API server 0 on http://{config.host}:{config.port}",
            "api_server.py:1912",
        ),
        _api("Available routes are:", "launcher.py:34"),
    ]
    for route, methods in (
        ("/health", "GET"),
        ("/metrics", "GET"),
        ("/v1/models", "GET"),
        ("/v1/chat/completions", "POST"),
    ):
        steps.append(_api(f"Route: {route}, Methods: {methods}", "launcher.py:42", 0.0))
    steps += [
        LogStep(0.0, f"Started server process [{API_PID}]", "api", "INFO", "uvicorn"),
        LogStep(0.0, "Waiting for application startup.", "api", "INFO", "uvicorn"),
        LogStep(0.01, "Application startup complete.", "api", "INFO", "uvicorn"),
    ]
    return steps


def _budget_line(config: SimServerConfig, plan: MemoryPlan) -> str:
    """vLLM 0.26's summary of where the memory went, printed once the cache is sized."""
    activation, non_torch, graphs = PEAK_PARTS_GIB
    total = config.gpu_memory_gib
    return (
        f"Free memory on device ({total - 0.5:.2f}/{total:.2f} GiB) on startup. Desired GPU "
        f"memory utilization is ({config.gpu_memory_utilization}, {plan.requested_gib:.2f} GiB). "
        f"Actual usage is {plan.weights_gib:.2f} GiB for weight, {activation:.2f} GiB for peak "
        f"activation, {non_torch:.2f} GiB for non-torch memory, and {graphs:.2f} GiB for "
        f"CUDAGraph memory. Current kv cache memory in use is {plan.kv_available_gib:.2f} GiB."
    )


def _engine_failure(error: str) -> list[LogStep]:
    return [
        _engine("EngineCore failed to start.", "core.py:708", 0.02, "ERROR"),
        LogStep(0.0, "Traceback (most recent call last):", None),
        LogStep(
            0.0,
            '  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core.py", '
            "line 699, in run_engine_core",
            None,
        ),
        LogStep(0.0, error, None),
        LogStep(
            0.02,
            "RuntimeError: Engine core initialization failed. See root cause above. "
            "Failed core proc(s): {}",
            None,
        ),
    ]


def _oom_failure(config: SimServerConfig, plan: MemoryPlan) -> list[LogStep]:
    free_mib = 512.0
    return _engine_failure(
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.02 GiB. GPU 0 has a "
        f"total capacity of {config.gpu_memory_gib:.2f} GiB of which {free_mib:.2f} MiB is free. "
        f"Process {ENGINE_PID} has {config.gpu_memory_gib - 0.5:.2f} GiB memory in use. Of the "
        f"allocated memory {min(plan.weights_gib, config.gpu_memory_gib - 1):.2f} GiB is "
        "allocated by PyTorch, and 0.41 GiB is reserved by PyTorch but unallocated."
    )


def shutdown_lines(when: datetime) -> list[str]:
    return [
        format_line(LogStep(0, "Shutting down", "api", "INFO", "uvicorn"), when),
        format_line(
            LogStep(0, "Waiting for application shutdown.", "api", "INFO", "uvicorn"), when
        ),
        format_line(LogStep(0, "Application shutdown complete.", "api", "INFO", "uvicorn"), when),
        format_line(
            LogStep(0, f"Finished server process [{API_PID}]", "api", "INFO", "uvicorn"), when
        ),
    ]


def render(steps: list[LogStep], start: datetime, total_seconds: float) -> list[tuple[float, str]]:
    """(seconds since start, text) for each step, spreading total_seconds by each step's share."""
    shares = sum(step.delay for step in steps) or 1.0
    out: list[tuple[float, str]] = []
    elapsed = 0.0
    for step in steps:
        elapsed += total_seconds * step.delay / shares
        when = datetime.fromtimestamp(start.timestamp() + elapsed)
        text = format_line(step, when).replace("{when}", f"{when:%m-%d %H:%M:%S}")
        out.append((elapsed, text))
    return out


def is_ready_line(text: str) -> bool:
    return text.endswith("Application startup complete.")
