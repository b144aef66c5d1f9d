"""What real vLLM starts measured, kept so the next estimate for the same launch uses it.

Each start vtui follows (a launch or a probe) leaves one record: what was launched (the
key: model, GPU, parallel layout, dtypes, batch sizes), the estimate made for it and what
vLLM printed. The parts of vLLM's budget that do not depend on the context length
(weights, activation peak, non-torch memory, CUDA-graph reserve) then replace the
estimate's closed forms for a launch with the same key; the KV cache still follows from
the utilization asked for now. A record is the user's own file, read as untrusted: every
field is checked on the way in and a bad line is skipped, never fatal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from vtui.core.fit import MIB, FitEstimate, FitRequest, MeasuredBudget
from vtui.core.startup import LoadFigures

GIB = 1024**3
MAX_LINE = 8192  # one record's JSON; longer lines are not ours
MAX_TEXT = 200
MAX_GIB = 16384.0  # no GPU holds more; a larger figure is a corrupt line
MAX_TOKENS = 10**10


class BadRecord(ValueError):
    """A calibration line that is not one vtui wrote (or that was edited into nonsense)."""


@dataclass(frozen=True)
class StartKey:
    """What must match for one start's figures to stand for another's."""

    model: str
    gpu_name: str
    gpu_total_mib: int
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    dtype: str = "auto"
    kv_cache_dtype: str = "auto"
    quantization: str = ""
    enforce_eager: bool = False
    max_num_seqs: int = 0  # 0: vLLM's default for the GPU
    max_num_batched_tokens: int = 0

    def same_launch(self, other: StartKey) -> bool:
        # CUDA's total moves by a few MiB between drivers; the GPU is the same one.
        near = abs(self.gpu_total_mib - other.gpu_total_mib) <= max(64, self.gpu_total_mib // 200)
        mine = replace_total(self, 0)
        return near and mine == replace_total(other, 0)


def replace_total(key: StartKey, total: int) -> StartKey:
    fields = asdict(key) | {"gpu_total_mib": total}
    return StartKey(**fields)


@dataclass(frozen=True)
class Measured:
    """vLLM's own figures for one start, in GiB as it prints them."""

    weights_gib: float
    kv_cache_gib: float
    kv_cache_tokens: int
    activation_gib: float | None = None
    non_torch_gib: float | None = None
    graph_estimate_gib: float | None = None
    cuda_graphs_gib: float | None = None  # taken after the cache was sized
    max_concurrency: float | None = None
    context_tokens: int | None = None
    requested_gib: float | None = None

    @property
    def budget_known(self) -> bool:
        """Every term of the budget is known, so the next estimate can take them."""
        return None not in (self.activation_gib, self.non_torch_gib, self.graph_estimate_gib)


def measured_from(figures: LoadFigures) -> Measured | None:
    """None until vLLM has printed the weights, the cache's size and its tokens."""
    f = figures
    if f.weights_gib is None or f.kv_cache_gib is None or f.kv_cache_tokens is None:
        return None
    return Measured(
        weights_gib=f.weights_gib,
        kv_cache_gib=f.kv_cache_gib,
        kv_cache_tokens=f.kv_cache_tokens,
        activation_gib=f.activation_gib,
        non_torch_gib=f.non_torch_gib,
        graph_estimate_gib=f.graph_estimate_gib,
        cuda_graphs_gib=f.cuda_graphs_gib,
        max_concurrency=f.max_concurrency,
        context_tokens=f.context_tokens,
        requested_gib=f.requested_gib,
    )


@dataclass(frozen=True)
class Estimated:
    """What vtui predicted for the same start, to say how far off it was."""

    weights_gib: float
    kv_cache_gib: float
    kv_cache_tokens: int | None
    verdict: str


@dataclass(frozen=True)
class StartRecord:
    at: str  # ISO 8601, UTC
    source: str  # "probe" or "launch"
    key: StartKey
    vllm_version: str
    runner: str  # "V2", or "" when vLLM did not say
    max_model_len: int | None
    utilization: float
    measured: Measured
    estimated: Estimated | None = None

    @property
    def day(self) -> str:
        return self.at[:10]

    def token_error(self) -> float | None:
        """(estimated - measured) / measured KV tokens; None without an estimate."""
        e = self.estimated
        if e is None or e.kv_cache_tokens is None or not self.measured.kv_cache_tokens:
            return None
        return (e.kv_cache_tokens - self.measured.kv_cache_tokens) / self.measured.kv_cache_tokens

    def to_line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


# -- reading a line back, as untrusted as any file --------------------------------------------


def _text(data: Mapping[str, Any], name: str, *, empty: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or len(value) > MAX_TEXT or (not empty and not value):
        raise BadRecord(f"{name}: not a short text")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise BadRecord(f"{name}: control characters")
    return value


def _count(data: Mapping[str, Any], name: str, *, low: int = 0, high: int = MAX_TOKENS) -> int:
    value = data.get(name, low)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRecord(f"{name}: not a whole number from {low} to {high}")
    return value


def _gib(data: Mapping[str, Any], name: str, *, optional: bool = False) -> float | None:
    value = data.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRecord(f"{name}: not a number")
    if not math.isfinite(value) or not 0 <= value <= MAX_GIB:
        raise BadRecord(f"{name}: {value} is not a GPU's memory")
    return float(value)


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise BadRecord(f"{name}: missing")
    return value


def _key(data: Mapping[str, Any]) -> StartKey:
    eager = data.get("enforce_eager", False)
    if not isinstance(eager, bool):
        raise BadRecord("enforce_eager: not true or false")
    return StartKey(
        model=_text(data, "model", empty=False),
        gpu_name=_text(data, "gpu_name"),
        gpu_total_mib=_count(data, "gpu_total_mib", low=1, high=int(MAX_GIB * 1024)),
        tensor_parallel=_count(data, "tensor_parallel", low=1, high=1024),
        pipeline_parallel=_count(data, "pipeline_parallel", low=1, high=1024),
        dtype=_text(data, "dtype"),
        kv_cache_dtype=_text(data, "kv_cache_dtype"),
        quantization=_text(data, "quantization"),
        enforce_eager=eager,
        max_num_seqs=_count(data, "max_num_seqs", high=1 << 20),
        max_num_batched_tokens=_count(data, "max_num_batched_tokens", high=1 << 24),
    )


def _measured(data: Mapping[str, Any]) -> Measured:
    concurrency = data.get("max_concurrency")
    if concurrency is not None and (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, (int, float))
        or not math.isfinite(concurrency)
        or not 0 <= concurrency <= 1e9
    ):
        raise BadRecord("max_concurrency: not a count")
    context = data.get("context_tokens")
    return Measured(
        weights_gib=_gib(data, "weights_gib") or 0.0,
        kv_cache_gib=_gib(data, "kv_cache_gib") or 0.0,
        kv_cache_tokens=_count(data, "kv_cache_tokens"),
        activation_gib=_gib(data, "activation_gib", optional=True),
        non_torch_gib=_gib(data, "non_torch_gib", optional=True),
        graph_estimate_gib=_gib(data, "graph_estimate_gib", optional=True),
        cuda_graphs_gib=_gib(data, "cuda_graphs_gib", optional=True),
        max_concurrency=None if concurrency is None else float(concurrency),
        context_tokens=None if context is None else _count(data, "context_tokens", low=1),
        requested_gib=_gib(data, "requested_gib", optional=True),
    )


def _estimated(data: Mapping[str, Any] | None) -> Estimated | None:
    if data is None:
        return None
    tokens = data.get("kv_cache_tokens")
    return Estimated(
        weights_gib=_gib(data, "weights_gib") or 0.0,
        kv_cache_gib=_gib(data, "kv_cache_gib") or 0.0,
        kv_cache_tokens=None if tokens is None else _count(data, "kv_cache_tokens"),
        verdict=_text(data, "verdict"),
    )


def parse_line(line: str) -> StartRecord:
    """Raises BadRecord saying what is wrong with the line."""
    if len(line) > MAX_LINE:
        raise BadRecord("longer than any record vtui writes")
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadRecord(f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise BadRecord("not a JSON object")
    source = _text(data, "source")
    if source not in ("probe", "launch"):
        raise BadRecord("source: neither probe nor launch")
    length = data.get("max_model_len")
    estimated = data.get("estimated")
    if estimated is not None and not isinstance(estimated, dict):
        raise BadRecord("estimated: not an object")
    return StartRecord(
        at=_text(data, "at", empty=False),
        source=source,
        key=_key(_table(data, "key")),
        vllm_version=_text(data, "vllm_version"),
        runner=_text(data, "runner"),
        max_model_len=None if length is None else _count(data, "max_model_len", low=1),
        utilization=_gib(data, "utilization") or 0.0,
        measured=_measured(_table(data, "measured")),
        estimated=_estimated(estimated),
    )


def newest_match(
    records: Iterable[StartRecord], key: StartKey, vllm_version: str | None = None
) -> StartRecord | None:
    """The latest start of this launch whose budget is fully known; of the given vLLM
    version only, when the version is known (another release accounts differently)."""
    best: StartRecord | None = None
    for record in records:
        if not record.measured.budget_known or not record.key.same_launch(key):
            continue
        if vllm_version and record.vllm_version and record.vllm_version != vllm_version:
            continue
        if best is None or record.at >= best.at:
            best = record
    return best


def key_of(model: str, request: FitRequest) -> StartKey:
    return StartKey(
        model=model,
        gpu_name=request.gpu_name,
        gpu_total_mib=max(1, request.gpu_total_bytes // MIB),
        tensor_parallel=max(1, request.tensor_parallel),
        pipeline_parallel=max(1, request.pipeline_parallel),
        dtype=request.dtype,
        kv_cache_dtype=request.kv_cache_dtype,
        quantization=request.quantization or "",
        enforce_eager=request.enforce_eager,
        max_num_seqs=request.max_num_seqs or 0,
        max_num_batched_tokens=request.max_num_batched_tokens or 0,
    )


def budget_of(record: StartRecord) -> MeasuredBudget:
    """The record's budget terms in bytes; only for records whose budget is known. The
    graph term is what vLLM really took out of the budget: what is left of its request
    after weights, activations, non-torch memory and the cache it sized (the graph figure
    it prints is the capture, which Model Runner V2 makes after the cache)."""
    m = record.measured
    graphs = m.graph_estimate_gib or 0.0
    if m.requested_gib is not None:
        rest = m.requested_gib - m.weights_gib - (m.activation_gib or 0.0)
        graphs = max(0.0, rest - (m.non_torch_gib or 0.0) - m.kv_cache_gib)
    return MeasuredBudget(
        weights=int(m.weights_gib * GIB),
        activation=int((m.activation_gib or 0.0) * GIB),
        non_torch=int((m.non_torch_gib or 0.0) * GIB),
        cuda_graphs=int(graphs * GIB),
        measured_on=record.day,
        vllm_version=record.vllm_version,
    )


def estimated_of(fit: FitEstimate) -> Estimated:
    b = fit.budget
    return Estimated(
        weights_gib=round(b.weights / GIB, 3),
        kv_cache_gib=round(max(0, b.kv_cache) / GIB, 3),
        kv_cache_tokens=fit.kv_cache_tokens,
        verdict=fit.verdict.value,
    )
