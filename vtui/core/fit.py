"""Will it fit? GPU memory for one launch, accounted the way vLLM 0.33.0 accounts it.

vLLM (vllm/v1/worker/gpu_worker.py, Worker.determine_available_memory, with
vllm/utils/mem_utils.py, memory_profiling) gives the KV cache what is left of
    requested = total memory x gpu_memory_utilization            (v1/worker/utils.py)
after the memory the profile run consumed (weights + non-torch memory such as NCCL and
custom all-reduce buffers), the transient activation peak of one forward pass of
max_num_batched_tokens plus the sampler over max_num_seqs rows, and the estimated
CUDA-graph memory (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS, on by default since 0.21;
nothing with --enforce-eager). The cache is cut into blocks shared by the model's kinds
of layer (kv_plan.py); a request of max_model_len must fit in it.

Weights and the KV bytes per token follow from the model; the other three terms are
closed forms whose constants were fitted to vLLM's own startup figures, each source in
tests/data/fit_rows.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

from vtui.core.kv_cache import (
    BLOCK_SIZE,
    GIB,
    UnknownLayout,
    bytes_per_token,
    describe,
    kv_dtype_bytes,
)
from vtui.core.kv_plan import KvPlan, plan
from vtui.core.model_shape import (
    ModelShape,
    estimated_weight_bytes,
    per_gpu_weight_bytes,
    serving_dtype_bytes,
)
from vtui.core.vllm_args import CATALOGUE
from vtui.core.vllm_runner import V2, accounting_for, model_runner

# vLLM's own default (0.92 in 0.26 and 0.33), read from the argument catalogue: a fit at
# "vLLM's defaults" must use the one vLLM uses.
_CATALOGUE_DEFAULT = CATALOGUE["--gpu-memory-utilization"].default
assert isinstance(_CATALOGUE_DEFAULT, float), "the catalogue lost vLLM's default utilization"
DEFAULT_UTILIZATION = _CATALOGUE_DEFAULT

MIB = 1024**2
# The sampler keeps about three float32 copies of the logits (logits, probabilities,
# log-probabilities) for max_num_seqs rows; fitted on Llama-3.1-8B, CodeLlama-7B, Gemma-7B.
SAMPLER_BYTES_PER_LOGIT = 12
# A chunk of max_num_batched_tokens through the MLP: the gate/up output in half precision.
MLP_BYTES_PER_TOKEN_WIDTH = 4
NON_TORCH_ONE_GPU = int(0.25 * GIB)  # CUDA/cuBLAS workspaces (vLLM 0.18+ on H100: 0.25 GiB)
NON_TORCH_NVLINK_TP = int(2.1 * GIB)  # + NCCL and custom all-reduce buffers (H100, TP 2-4)
NON_TORCH_PCIE_TP = int(0.5 * GIB)  # consumer cards: no custom all-reduce buffers
CUDA_GRAPH_BYTES_PER_LAYER = int(14.8 * MIB)  # Qwen3-8B, 36 layers: 0.52 GiB estimated
LARGE_GPU_BYTES = 70 * GIB  # vLLM's larger batch defaults start here (not on A100)
HUGE_GPU_BYTES = 160 * GIB
FEW_CONCURRENT = 4  # fewer full-length requests than this at once deserves a word
# Model Runner V2 (vLLM 0.26), fitted to its measured peaks on 8 models (vllm_runner.py):
# one float32 copy of the logits for max_num_seqs rows, and a chunk of
# max_num_batched_tokens at hidden width; about a fifth less with --enforce-eager.
V2_SAMPLER_BYTES_PER_LOGIT = 4
V2_BYTES_PER_TOKEN_HIDDEN = 22
V2_EAGER_SHARE = 0.8
NON_TORCH_V2_ONE_GPU = int(0.22 * GIB)  # every V2 start on the H200 printed 0.22 GiB


class Verdict(StrEnum):
    FITS = "fits"
    FEW_REQUESTS = "fits, few requests"
    CONTEXT_TOO_LONG = "max-model-len too large"
    WEIGHTS_TOO_LARGE = "weights too large"
    REFUSED = "vLLM refuses these settings"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class FitRequest:
    """One launch on one kind of GPU; sizes in bytes."""

    gpu_total_bytes: int  # what CUDA reports as total (NVML total less reserved)
    gpu_count: int = 1
    gpu_name: str = ""
    gpu_free_bytes: int | None = None  # free before launch, where known
    gpu_holders: tuple[str, ...] = ()  # what holds memory on the chosen GPUs, in words
    free_elsewhere: tuple[tuple[int, int], ...] = ()  # (index, free bytes) of the others
    utilization: float = DEFAULT_UTILIZATION
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    max_model_len: int | None = None  # None: the model's own maximum, as vLLM does
    kv_cache_dtype: str = "auto"
    dtype: str = "auto"
    quantization: str | None = None  # --quantization at run time
    enforce_eager: bool = False
    max_num_seqs: int | None = None
    max_num_batched_tokens: int | None = None
    count_cuda_graphs: bool = True  # VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS
    cpu_offload_gib: float = 0.0
    prefix_caching: bool = True  # on by default; Mamba layers then keep more state blocks
    # The vLLM release the launch runs, where known (an image tag); its accounting is
    # used if vtui measured it, the pinned release's otherwise (vllm_runner.py).
    vllm_version: str | None = None


@dataclass(frozen=True)
class Fix:
    """One change to the launch that makes it fit: a vLLM flag and its new value."""

    flag: str
    value: object
    says: str


@dataclass(frozen=True)
class MeasuredBudget:
    """vLLM's own figures for the same launch on this machine (calibration.py): they
    replace the closed forms; the KV cache still follows from the utilization asked for."""

    weights: int
    activation: int
    non_torch: int
    cuda_graphs: int
    measured_on: str  # the day, as "2026-12-02"
    vllm_version: str = ""


@dataclass(frozen=True)
class Budget:
    """One GPU's memory, in bytes, split as vLLM splits it."""

    total: int
    requested: int  # total x utilization
    weights: int
    activation: int
    non_torch: int
    cuda_graphs: int
    weights_measured: bool  # from tensor sizes, not counted from config.json
    measured_on: str | None = None  # the terms are a real start's on that day
    accounting: str = ""  # the vLLM release whose accounting was followed
    runner: str = "V1"  # the model runner that release picks for this model

    @property
    def kv_cache(self) -> int:
        """What is left for the KV cache; negative when even the rest does not fit."""
        return self.requested - self.weights - self.activation - self.non_torch - self.cuda_graphs


@dataclass(frozen=True)
class FitEstimate:
    verdict: Verdict
    budget: Budget
    max_model_len: int | None
    kv_bytes_per_token: int | None = None
    kv_cache_tokens: int | None = None
    max_concurrency: float | None = None
    advice: tuple[str, ...] = ()
    fixes: tuple[Fix, ...] = ()
    unknown_reason: str | None = None
    busy: str | None = None  # other processes hold memory vLLM would ask for
    # With WEIGHTS_TOO_LARGE: the smallest tensor-parallel size whose weights fit, if any.
    tensor_parallel_needed: int | None = None
    # For models mixing layer kinds: which, since their token count is vLLM's
    # concurrency x max-model-len rather than tokens stored.
    hybrid_layers: str | None = None
    # With --max-model-len auto (vLLM's -1): the length vLLM will pick, and what sets it.
    length_note: str | None = None

    @property
    def fits(self) -> bool:
        return self.verdict in (Verdict.FITS, Verdict.FEW_REQUESTS)

    @property
    def summary(self) -> str:
        if self.verdict is Verdict.UNKNOWN:
            return f"fit unknown: {self.unknown_reason}"
        if self.verdict is Verdict.FITS:
            return (
                f"fits: {self.kv_cache_tokens:,} KV tokens, "
                f"{self.max_concurrency:.1f}x at full length"
            )
        if self.verdict is Verdict.FEW_REQUESTS:
            return f"fits, but only {self.max_concurrency:.1f} requests at full length"
        if self.verdict is Verdict.REFUSED and self.advice:
            return f"does not start: {self.advice[0]}"
        if self.verdict is Verdict.WEIGHTS_TOO_LARGE and self.tensor_parallel_needed:
            return f"does not fit: {self.verdict.value} (needs TP {self.tensor_parallel_needed})"
        return f"does not fit: {self.verdict.value}"


def short_verdict(fit: FitEstimate) -> str:
    """A table cell's worth: fits 9.4x (requests of full length at once), fits at 24k,
    needs TP 4, too large, unknown."""
    if fit.verdict in (Verdict.FITS, Verdict.FEW_REQUESTS) and fit.max_concurrency is not None:
        times = fit.max_concurrency
        return f"fits {times:.0f}x" if times >= 10 else f"fits {times:.1f}x"
    if fit.verdict is Verdict.CONTEXT_TOO_LONG:
        value = next((f.value for f in fit.fixes if f.flag == "--max-model-len"), None)
        return f"fits at {int(value) // 1024}k" if isinstance(value, int) else "shorter context"
    if fit.verdict is Verdict.WEIGHTS_TOO_LARGE:
        needed = fit.tensor_parallel_needed
        return f"needs TP {needed}" if needed else "too large"
    if fit.verdict is Verdict.REFUSED:
        return "refused"
    return "unknown"


def batch_defaults(request: FitRequest) -> tuple[int, int]:
    """max_num_batched_tokens and max_num_seqs as `vllm serve` picks them for this GPU
    (vllm/engine/arg_utils.py, EngineArgs.get_batch_defaults)."""
    total = request.gpu_total_bytes
    if total >= HUGE_GPU_BYTES:
        tokens, seqs = 16384, 1024
    elif total >= LARGE_GPU_BYTES and "a100" not in request.gpu_name.lower():
        tokens, seqs = 8192, 1024
    else:
        tokens, seqs = 2048, 256
    return (request.max_num_batched_tokens or tokens, request.max_num_seqs or seqs)


def in_flight_tokens(request: FitRequest) -> int:
    """Tokens scheduled but not yet freed, which sliding-window layers must also keep
    (vllm/config/vllm.py, max_in_flight_tokens): a batch per pipeline stage, plus one for
    asynchronous scheduling, on by default."""
    tokens, _ = batch_defaults(request)
    return (max(1, request.pipeline_parallel) + 1) * tokens


def serving_dtype(model: ModelShape, request: FitRequest) -> str:
    """The dtype vLLM computes in; an 'auto' KV cache stores this too."""
    if request.dtype != "auto":
        return request.dtype
    return "bfloat16" if model.dtype in ("float32", "float") else model.dtype


def runner_of(model: ModelShape, request: FitRequest) -> tuple[str, str]:
    """(the release whose accounting applies, the model runner it picks)."""
    accounting = accounting_for(request.vllm_version)
    return accounting, model_runner(model, accounting)


def activation_bytes(model: ModelShape, request: FitRequest, runner: str = "V1") -> int:
    tokens, seqs = batch_defaults(request)
    if runner == V2:
        peak = seqs * model.vocab * V2_SAMPLER_BYTES_PER_LOGIT
        peak += tokens * model.hidden * V2_BYTES_PER_TOKEN_HIDDEN
        return int(peak * (V2_EAGER_SHARE if request.enforce_eager else 1.0))
    sampler = seqs * model.vocab * SAMPLER_BYTES_PER_LOGIT
    return sampler + tokens * model.intermediate * MLP_BYTES_PER_TOKEN_WIDTH


def non_torch_bytes(request: FitRequest, runner: str = "V1") -> int:
    if request.tensor_parallel <= 1:
        return NON_TORCH_V2_ONE_GPU if runner == V2 else NON_TORCH_ONE_GPU
    if request.gpu_total_bytes >= 40 * GIB:
        return NON_TORCH_NVLINK_TP
    return NON_TORCH_PCIE_TP


def cuda_graph_bytes(model: ModelShape, request: FitRequest, runner: str = "V1") -> int:
    # V2 captures its graphs after the cache is sized: they come on top of the budget.
    if request.enforce_eager or not request.count_cuda_graphs or runner == V2:
        return 0
    return math.ceil(model.layers / max(1, request.pipeline_parallel)) * CUDA_GRAPH_BYTES_PER_LAYER


def estimate(
    model: ModelShape,
    request: FitRequest,
    *,
    dtype_parameters: dict[str, int] | None = None,
    measured: MeasuredBudget | None = None,
) -> FitEstimate:
    total_weights, from_tensors = estimated_weight_bytes(
        model,
        dtype_parameters=dtype_parameters,
        dtype=request.dtype,
        runtime_quantization=request.quantization,
    )
    fit = _estimate(model, request, total_weights, from_tensors, measured)
    hybrid = describe(model.kv) if model.kv is not None and model.kv.hybrid else None
    busy, busy_fixes = _busy(model, request, fit, total_weights)
    # A busy GPU stops the start whatever the settings: its fixes come first.
    return replace(fit, busy=busy, fixes=busy_fixes + fit.fixes, hybrid_layers=hybrid)


def _busy(
    model: ModelShape, request: FitRequest, fit: FitEstimate, total_weights: int
) -> tuple[str | None, tuple[Fix, ...]]:
    """vLLM refuses to start when less than its share is free (v1/worker/utils.py,
    request_memory): about now, not the model, so a note of its own, naming what holds
    the memory, with the fixes that work now: GPUs that are free, a share that fits."""
    free, budget = request.gpu_free_bytes, fit.budget
    if free is None or free >= budget.requested:
        return None, ()
    held = f" ({'; '.join(request.gpu_holders)})" if request.gpu_holders else ""
    words = (
        f"vLLM will refuse to start now: {free / GIB:.1f} GiB of {budget.total / GIB:.1f} GiB "
        f"is free{held} and it asks for {budget.requested / GIB:.1f} GiB "
        f"({request.utilization:.2f} x total)"
    )
    fixes: list[Fix] = []
    wanted = max(1, request.tensor_parallel) * max(1, request.pipeline_parallel)
    roomy = sorted(i for i, bytes_free in request.free_elsewhere if bytes_free >= budget.requested)
    if len(roomy) >= wanted:
        chosen = ",".join(str(i) for i in roomy[:wanted])
        fixes.append(Fix("gpus", chosen, f"use GPU {chosen} (free now)"))
        words += f"; GPU {chosen} is free"
    # A share of what is free, with a little left for the allocator, if it still fits.
    share = math.floor((free - 256 * MIB) / budget.total * 100) / 100
    if share >= 0.05:
        smaller = _estimate(
            model, replace(request, utilization=share), total_weights, budget.weights_measured
        )
        if smaller.fits:
            fixes.append(
                Fix("--gpu-memory-utilization", share, f"utilization {share:.2f} (what is free)")
            )
            words += (
                f"; at --gpu-memory-utilization {share:.2f} it fits what is free "
                f"({smaller.kv_cache_tokens or 0:,} KV tokens)"
            )
    if not fixes:
        words += "; stop what holds the memory, or choose other GPUs"
    return words, tuple(fixes)


def _refused(model: ModelShape, request: FitRequest, budget: Budget) -> FitEstimate | None:
    """Settings vLLM refuses at start-up whatever the memory: a tensor-parallel size that
    does not divide the attention heads, a --max-model-len beyond the positions the model
    derives (vllm/config: without VLLM_ALLOW_LONG_MAX_MODEL_LEN it raises)."""
    tp, heads = max(1, request.tensor_parallel), model.attention_heads
    if heads and heads % tp:
        usable = [n for n in range(min(heads, max(1, request.gpu_count)), 0, -1) if heads % n == 0]
        fixes = (Fix("--tensor-parallel-size", usable[0], f"tensor-parallel-size {usable[0]}"),)
        return FitEstimate(
            Verdict.REFUSED,
            budget,
            request.max_model_len or model.max_len,
            advice=(
                f"vLLM refuses --tensor-parallel-size {tp}: it must divide the model's "
                f"{heads} attention heads (on {request.gpu_count} GPUs: {usable[0]})",
            ),
            fixes=fixes,
        )
    asked, positions = request.max_model_len, model.max_len
    if asked and positions and asked > positions:
        return FitEstimate(
            Verdict.REFUSED,
            budget,
            asked,
            advice=(
                f"vLLM refuses --max-model-len {asked:,}: the model holds {positions:,} "
                "positions; use that or less (or rope scaling, where the model supports it)",
            ),
            fixes=(Fix("--max-model-len", positions, f"max-model-len {positions}"),),
        )
    return None


def _estimate(
    model: ModelShape,
    request: FitRequest,
    total_weights: int,
    measured: bool,
    calibrated: MeasuredBudget | None = None,
) -> FitEstimate:
    tp, pp = max(1, request.tensor_parallel), max(1, request.pipeline_parallel)
    budget = _budget(model, request, total_weights, measured)
    if calibrated is not None:
        budget = replace(
            budget,
            weights=calibrated.weights,
            activation=calibrated.activation,
            non_torch=calibrated.non_torch,
            cuda_graphs=calibrated.cuda_graphs,
            weights_measured=True,
            measured_on=calibrated.measured_on,
        )
    return _judged(model, request, total_weights, budget, tp, pp)


def _budget(model: ModelShape, request: FitRequest, total_weights: int, measured: bool) -> Budget:
    tp, pp = max(1, request.tensor_parallel), max(1, request.pipeline_parallel)
    accounting, runner = runner_of(model, request)
    return Budget(
        total=request.gpu_total_bytes,
        requested=math.ceil(request.gpu_total_bytes * request.utilization),
        # --cpu-offload-gb keeps that much of each GPU's weights in host memory.
        weights=max(
            0,
            per_gpu_weight_bytes(model, total_weights, tensor_parallel=tp, pipeline_parallel=pp)
            - int(request.cpu_offload_gib * GIB),
        ),
        activation=activation_bytes(model, request, runner),
        non_torch=non_torch_bytes(request, runner),
        cuda_graphs=cuda_graph_bytes(model, request, runner),
        weights_measured=measured,
        accounting=accounting,
        runner=runner,
    )


def _judged(
    model: ModelShape, request: FitRequest, total_weights: int, budget: Budget, tp: int, pp: int
) -> FitEstimate:
    max_len = request.max_model_len or model.max_len
    refused = _refused(model, request, budget)
    if refused is not None:
        return refused
    if budget.kv_cache <= 0:
        return _weights_too_large(model, request, total_weights, budget, max_len)
    if model.kv is None:
        return FitEstimate(
            Verdict.UNKNOWN,
            budget,
            max_len,
            advice=(f"weights fit; the KV cache size is unknown: {model.kv_unknown_reason}",),
            unknown_reason=model.kv_unknown_reason,
        )
    try:
        pool = _pool(model, request, request.kv_cache_dtype)
        element = kv_dtype_bytes(request.kv_cache_dtype, serving_dtype(model, request))
    except UnknownLayout as err:
        return FitEstimate(Verdict.UNKNOWN, budget, max_len, unknown_reason=str(err))
    per_token = bytes_per_token(
        model.kv, tensor_parallel=tp, pipeline_parallel=pp, dtype_bytes=element
    )
    in_flight = in_flight_tokens(request)
    if max_len is None:
        tokens = pool.blocks(budget.kv_cache) * pool.block_tokens
        reason = "config.json gives no maximum length; set --max-model-len"
        return FitEstimate(
            Verdict.UNKNOWN,
            budget,
            None,
            per_token,
            tokens,
            advice=(reason,),
            unknown_reason=reason,
        )
    concurrency = pool.concurrency(budget.kv_cache, max_len, in_flight)
    tokens = pool.reported_tokens(budget.kv_cache, max_len, in_flight)
    if concurrency < 1:
        fp8_doubles = request.kv_cache_dtype == "auto" and (
            _pool(model, request, "fp8").concurrency(budget.kv_cache, max_len, in_flight) >= 1
        )
        return _context_too_long(
            request, budget, max_len, per_token, tokens, pool, in_flight, fp8_helps=fp8_doubles
        )
    if concurrency < FEW_CONCURRENT:
        advice = (
            f"{tokens:,} KV tokens hold {concurrency:.1f} requests of {max_len:,} tokens at once",
        )
        return FitEstimate(
            Verdict.FEW_REQUESTS,
            budget,
            max_len,
            per_token,
            tokens,
            concurrency,
            advice=advice + _more_room(request),
        )
    return FitEstimate(Verdict.FITS, budget, max_len, per_token, tokens, concurrency)


def _pool(model: ModelShape, request: FitRequest, kv_cache_dtype: str) -> KvPlan:
    """Raises UnknownLayout for a KV dtype or layer layout not modelled."""
    assert model.kv is not None
    return plan(
        model.kv,
        tensor_parallel=max(1, request.tensor_parallel),
        pipeline_parallel=max(1, request.pipeline_parallel),
        dtype_bytes=kv_dtype_bytes(kv_cache_dtype, serving_dtype(model, request)),
        model_dtype_bytes=serving_dtype_bytes(model, request.dtype),
        prefix_caching=request.prefix_caching,
    )


def friendly_length(tokens: int) -> int:
    """The largest of 2^k and 1.5 x 2^k that is not above tokens (at least one block)."""
    best = BLOCK_SIZE
    power = BLOCK_SIZE
    while power <= tokens:
        best = power
        if power * 3 // 2 <= tokens:
            best = power * 3 // 2
        power *= 2
    return best


def _more_room(request: FitRequest) -> tuple[str, ...]:
    tips = []
    if request.kv_cache_dtype == "auto":
        tips.append("--kv-cache-dtype fp8 stores twice the tokens (Ada/Hopper GPUs)")
    if request.utilization < 0.95:
        tips.append("a higher --gpu-memory-utilization gives the cache what is left")
    return tuple(tips)


def _context_too_long(
    request: FitRequest,
    budget: Budget,
    max_len: int,
    per_token: int,
    tokens: int,
    pool: KvPlan,
    in_flight: int,
    *,
    fp8_helps: bool,
) -> FitEstimate:
    longest = pool.longest_request(budget.kv_cache, in_flight)
    shorter = friendly_length(longest)
    needed = pool.request_bytes(max_len, in_flight)
    util = (budget.requested + needed - budget.kv_cache) / budget.total
    advice = [
        f"one request of {max_len:,} tokens needs {needed / GIB:.2f} GiB of KV cache; "
        f"{budget.kv_cache / GIB:.2f} GiB is left (enough for {longest:,} tokens)",
        f"set --max-model-len {shorter}",
    ]
    fixes = [Fix("--max-model-len", shorter, f"max-model-len {shorter:,}")]
    if util <= 0.95:
        rounded = math.ceil(util * 100) / 100
        advice.append(f"or raise --gpu-memory-utilization to {rounded:.2f}")
        fixes.append(Fix("--gpu-memory-utilization", rounded, f"utilization {rounded:.2f}"))
    if fp8_helps:
        advice.append("or use --kv-cache-dtype fp8 (twice the tokens; Ada/Hopper GPUs)")
        fixes.append(Fix("--kv-cache-dtype", "fp8", "fp8 KV cache"))
    return FitEstimate(
        Verdict.CONTEXT_TOO_LONG,
        budget,
        max_len,
        per_token,
        tokens,
        tokens / max_len,
        advice=tuple(advice),
        fixes=tuple(fixes),
    )


def _weights_too_large(
    model: ModelShape, request: FitRequest, total_weights: int, budget: Budget, max_len: int | None
) -> FitEstimate:
    overhead = budget.activation + budget.non_torch + budget.cuda_graphs
    advice = [
        f"weights take {budget.weights / GIB:.1f} GiB per GPU and activations and buffers "
        f"{overhead / GIB:.1f} GiB; vLLM may use {budget.requested / GIB:.1f} GiB"
    ]
    fixes: list[Fix] = []
    needed: int | None = None
    heads = model.kv.kv_heads if model.kv else 1
    for tp in (2, 4, 8):
        if tp <= request.tensor_parallel or (model.vocab % tp and heads % tp):
            continue
        attempt = _estimate(
            model, replace(request, tensor_parallel=tp), total_weights, budget.weights_measured
        )
        if attempt.fits or attempt.verdict is Verdict.CONTEXT_TOO_LONG:
            needed = tp
            where = "" if tp <= request.gpu_count else f" (this machine has {request.gpu_count})"
            advice.append(f"use --tensor-parallel-size {tp} on {tp} GPUs{where}")
            if tp <= request.gpu_count:
                fixes.append(Fix("--tensor-parallel-size", tp, f"tensor-parallel-size {tp}"))
            break
    if model.quantization.method is None:
        four_bit = budget.weights * 0.28 / GIB
        advice.append(
            f"or serve a 4-bit AWQ/GPTQ variant (about {four_bit:.1f} GiB per GPU) "
            "or an FP8 one (about half)"
        )
    return FitEstimate(
        Verdict.WEIGHTS_TOO_LARGE,
        budget,
        max_len,
        kv_cache_tokens=0,
        max_concurrency=0.0,
        advice=tuple(advice),
        fixes=tuple(fixes),
        tensor_parallel_needed=needed,
    )


AUTO_STEP = 1024


def auto_max_model_len(
    model: ModelShape,
    request: FitRequest,
    *,
    dtype_parameters: dict[str, int] | None = None,
    exact: bool = False,
) -> tuple[int | None, str]:
    """`--max-model-len auto`: the largest multiple of 1,024 (at most the model's positions)
    one request fits in, and what sets the limit; None with the reason when none fits.
    exact: the longest itself, as vLLM's own -1 (auto-fit) picks it."""
    base = estimate(model, replace(request, max_model_len=None), dtype_parameters=dtype_parameters)
    b = base.budget
    if b.kv_cache <= 0:
        return None, f"no length fits: {base.advice[0] if base.advice else 'the weights do not'}"
    if model.kv is None:
        return None, f"the KV cache cannot be sized: {model.kv_unknown_reason}"
    try:
        pool = _pool(model, request, request.kv_cache_dtype)
    except UnknownLayout as err:
        return None, str(err)
    longest = pool.longest_request(b.kv_cache, in_flight_tokens(request))
    positions = model.max_len
    step = 1 if exact else AUTO_STEP
    if positions and positions <= longest:
        length = positions if positions < step else positions // step * step
        return length, f"the model's own {positions:,} positions (the cache holds {longest:,})"
    if longest < (BLOCK_SIZE if exact else AUTO_STEP):
        return None, f"the KV cache holds one request of {longest:,} tokens only"
    per_token = (base.kv_bytes_per_token or 0) / 1024
    why = (
        f"the KV cache: {b.kv_cache / GIB:.1f} GiB left after the weights "
        f"({b.weights / GIB:.1f} GiB) holds one request of {longest:,} tokens "
        f"at {per_token:.0f} KiB per token"
    )
    if model.kv.hybrid:
        why += f" ({describe(model.kv)})"
    return longest // step * step, why
