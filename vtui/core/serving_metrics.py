"""One reading of a vLLM server's /metrics: the figures vtui shows, out of Prometheus text.

The names are those of the pinned vLLM release (vllm/v1/metrics/loggers.py in 0.33.0). Each
figure also accepts the name an earlier release used, and a figure the server does not report
is None, never an error: a server of another release, or another OpenAI-compatible server,
still shows what it has. The text is read with prometheus_client's own parser.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

# Each figure: the names to look for, newest first. Counters are named as the parser names
# their family, without the "_total" the exposition adds.
RUNNING = ("vllm:num_requests_running",)
WAITING = ("vllm:num_requests_waiting",)
KV_USAGE = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")
PREFIX_QUERIES = ("vllm:prefix_cache_queries", "vllm:gpu_prefix_cache_queries")
PREFIX_HITS = ("vllm:prefix_cache_hits", "vllm:gpu_prefix_cache_hits")
PREEMPTIONS = ("vllm:num_preemptions",)
PROMPT_TOKENS = ("vllm:prompt_tokens",)
GENERATION_TOKENS = ("vllm:generation_tokens",)
REQUESTS_DONE = ("vllm:request_success",)
TTFT = ("vllm:time_to_first_token_seconds",)
# vLLM 0.11 renamed time_per_output_token to inter_token_latency.
ITL = ("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds")


class MetricsFormatError(ValueError):
    """The text is not Prometheus exposition format."""


@dataclass(frozen=True)
class Histogram:
    """A Prometheus histogram: cumulative counts at each upper bound, the last +Inf."""

    bounds: tuple[float, ...]
    counts: tuple[float, ...]
    total: float

    @property
    def count(self) -> float:
        return self.counts[-1] if self.counts else 0.0

    def since(self, earlier: Histogram) -> Histogram | None:
        """What was observed after `earlier`; None when the buckets changed or the server
        restarted (a count went down), since then the difference means nothing."""
        if earlier.bounds != self.bounds:
            return None
        counts = tuple(a - b for a, b in zip(self.counts, earlier.counts, strict=True))
        if any(c < 0 for c in counts):
            return None
        return Histogram(self.bounds, counts, self.total - earlier.total)

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count > 0 else None

    def under_first_bound(self, q: float) -> float | None:
        """The lowest bucket's bound when the q-quantile falls in that bucket: all the
        histogram can say then is "below it" (vLLM's lowest ITL bucket is 10 ms, and a fast
        server's every token comes sooner), so no figure inside it is invented."""
        if not self.counts or self.count <= 0 or math.isinf(self.bounds[0]):
            return None
        return self.bounds[0] if q * self.count <= self.counts[0] else None

    def quantile(self, q: float) -> float | None:
        """The q-quantile, as Prometheus's histogram_quantile estimates it: linear within
        the bucket the rank falls in; the largest finite bound when it falls in +Inf."""
        if not self.counts or self.count <= 0:
            return None
        rank = q * self.count
        lower, below = 0.0, 0.0
        for bound, cumulative in zip(self.bounds, self.counts, strict=True):
            if cumulative >= rank and cumulative > below:
                if math.isinf(bound):
                    return lower
                return lower + (bound - lower) * (rank - below) / (cumulative - below)
            lower, below = bound, cumulative
        return lower


@dataclass(frozen=True)
class ServingSample:
    """What one scrape said, at `at` seconds on the caller's clock."""

    at: float
    running: float | None = None
    waiting: float | None = None
    kv_usage: float | None = None  # 0..1
    prefix_queries: float | None = None
    prefix_hits: float | None = None
    preemptions: float | None = None
    prompt_tokens: float | None = None
    generation_tokens: float | None = None
    requests_done: float | None = None
    ttft: Histogram | None = None
    itl: Histogram | None = None


@dataclass(frozen=True)
class _Family:
    name: str
    kind: str
    samples: list[tuple[str, dict[str, str], float]]


def parse_metrics(text: str, at: float) -> ServingSample:
    """Read vLLM's figures out of /metrics text. Raises MetricsFormatError.

    Linear in the page: a family split over the text is gathered in one list. Every
    figure is range-checked: a NaN, an infinity, a negative count or a usage outside 0..1
    reads as not reported (None), so no such value reaches a chart's arithmetic."""
    from prometheus_client.parser import text_string_to_metric_families

    families: dict[str, _Family] = {}
    try:
        for family in text_string_to_metric_families(text):
            samples = [(s.name, dict(s.labels), float(s.value)) for s in family.samples]
            # A family whose samples are not together in the text comes out in pieces.
            earlier = families.get(family.name)
            if earlier is not None:
                earlier.samples.extend(samples)
            else:
                families[family.name] = _Family(family.name, family.type, samples)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, RecursionError) as exc:
        raise MetricsFormatError(f"/metrics is not Prometheus text: {str(exc)[:200]}") from exc
    kv = [v for v in _values(families, KV_USAGE) if v <= 1.0]
    return ServingSample(
        at=at,
        running=_sum(_values(families, RUNNING)),
        waiting=_sum(_values(families, WAITING)),
        # One figure per engine with data parallelism: their mean is the server's usage.
        kv_usage=sum(kv) / len(kv) if kv else None,
        prefix_queries=_sum(_values(families, PREFIX_QUERIES)),
        prefix_hits=_sum(_values(families, PREFIX_HITS)),
        preemptions=_sum(_values(families, PREEMPTIONS)),
        prompt_tokens=_sum(_values(families, PROMPT_TOKENS)),
        generation_tokens=_sum(_values(families, GENERATION_TOKENS)),
        requests_done=_sum(_values(families, REQUESTS_DONE)),
        ttft=_histogram(families, TTFT),
        itl=_histogram(families, ITL),
    )


def _usable(value: float) -> bool:
    """Every figure vtui reads is a count, a gauge of things or a fraction: finite and not
    negative. Anything else is a broken or hostile page."""
    return math.isfinite(value) and value >= 0.0


def _find(families: dict[str, _Family], names: tuple[str, ...]) -> _Family | None:
    for name in names:
        # Untyped exposition (no TYPE line) keeps the counter's "_total" in the family name.
        for candidate in (name, f"{name}_total"):
            if candidate in families:
                return families[candidate]
    return None


def _values(families: dict[str, _Family], names: tuple[str, ...]) -> list[float]:
    """The family's values, one per label set (per engine, per finish reason)."""
    family = _find(families, names)
    if family is None:
        return []
    wanted = {family.name, f"{family.name}_total"}
    found = [v for sample, _labels, v in family.samples if sample in wanted]
    # One bad value spoils the figure: a sum of the rest would be a wrong figure, not N/A.
    return found if all(_usable(v) for v in found) else []


def _sum(values: Iterable[float]) -> float | None:
    values = list(values)
    total = sum(values) if values else None
    return total if total is None or math.isfinite(total) else None


def _histogram(families: dict[str, _Family], names: tuple[str, ...]) -> Histogram | None:
    family = _find(families, names)
    if family is None or family.kind != "histogram":
        return None
    # Several engines report one histogram each: add them up bucket by bucket.
    by_bound: dict[float, float] = {}
    total = 0.0
    for sample, labels, value in family.samples:
        if sample == f"{family.name}_bucket" and "le" in labels:
            try:
                bound = float(labels["le"])
            except ValueError:
                continue
            if math.isnan(bound) or not _usable(value):
                return None
            by_bound[bound] = by_bound.get(bound, 0.0) + value
        elif sample == f"{family.name}_sum":
            if not _usable(value):
                return None
            total += value
    if not by_bound or not math.isfinite(total):
        return None
    bounds = tuple(sorted(by_bound))
    counts = tuple(by_bound[b] for b in bounds)
    # Cumulative counts never go down from one bound to the next: if they do, the page lies.
    if any(later < earlier for earlier, later in itertools.pairwise(counts)):
        return None
    if not all(math.isfinite(c) for c in counts):
        return None
    return Histogram(bounds, counts, total)
