"""Serving counters kept by the simulator, written as vLLM 0.33.0's Prometheus metrics.

Names, labels, help texts and buckets are vLLM's (vllm/v1/metrics/loggers.py and buckets.py);
the text is laid out as prometheus_client 0.26 writes it (counters as NAME_total plus
NAME_created, labels sorted), so a client parses it as it parses a real server's.
Standard library only: the simulator runs in a container with nothing but python3.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

TTFT_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
    10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
ITL_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0,
)  # fmt: skip
E2E_BUCKETS = (
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0,
    240.0, 480.0, 960.0, 1920.0, 7680.0,
)  # fmt: skip
FINISH_REASONS = ("stop", "length", "abort", "error", "repetition")  # vLLM's FinishReason, in order
BLOCK_TOKENS = 16  # vLLM's default KV block size: the prefix cache hits whole blocks only
_SEEN_BLOCKS_KEPT = 200_000


@dataclass
class _Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        self.n += 1
        self.total += value
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1


def _number(value: float) -> str:
    """As prometheus_client writes a float (its floatToGoString): Go's exponent form for
    large values, +Inf spelled out."""
    value = float(value)
    if value == float("inf"):
        return "+Inf"
    text = repr(value)
    dot = text.find(".")
    if value > 0 and dot > 6:
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1 :]}".rstrip("0.")
        return f"{mantissa}e+0{dot - 1}"
    return text


def _labels(pairs: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in sorted(pairs.items()))


class ServerMetrics:
    def __init__(self, model_name: str, kv_tokens: int) -> None:
        self._lock = threading.Lock()
        self.model_name = model_name
        self.kv_tokens = max(1, kv_tokens)
        self.created = time.time()
        self.running = 0
        self.waiting = 0
        self.tokens_in_flight = 0
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.prefix_queries = 0
        self.prefix_hits = 0
        self.preemptions = 0
        self.success: dict[str, int] = dict.fromkeys(FINISH_REASONS, 0)
        self.ttft = _Histogram(TTFT_BUCKETS)
        self.itl = _Histogram(ITL_BUCKETS)
        self.e2e = _Histogram(E2E_BUCKETS)
        self._seen_blocks: set[int] = set()

    def waits(self, change: int) -> None:
        """A request joins (+1) or leaves (-1) the queue for a place in the batch."""
        with self._lock:
            self.waiting += change

    def request_started(self, prompt_tokens: int, prompt_words: Iterable[str] = ()) -> None:
        with self._lock:
            self.running += 1
            if self.tokens_in_flight + prompt_tokens > self.kv_tokens:
                # No room in the KV cache: vLLM preempts a running request to make some.
                self.preemptions += 1
            self.tokens_in_flight += prompt_tokens
            self.prompt_tokens += prompt_tokens
            self.prefix_queries += prompt_tokens
            self.prefix_hits += BLOCK_TOKENS * self._cached_blocks(list(prompt_words))

    def _cached_blocks(self, words: list[str]) -> int:
        """How many leading blocks of this prompt an earlier prompt already had; remembers
        this prompt's blocks for the next one (a chain hash, as vLLM's block hashes)."""
        if len(self._seen_blocks) > _SEEN_BLOCKS_KEPT:
            self._seen_blocks.clear()
        hits, chained, missed = 0, 0, False
        for start in range(0, len(words) - BLOCK_TOKENS + 1, BLOCK_TOKENS):
            chained = hash((chained, tuple(words[start : start + BLOCK_TOKENS])))
            if not missed and chained in self._seen_blocks:
                hits += 1
            else:
                missed = True
                self._seen_blocks.add(chained)
        return hits

    def token_generated(self, first_token_seconds: float | None, gap_seconds: float | None) -> None:
        """One output token; the first carries its time to first token, the others the gap
        since the token before."""
        with self._lock:
            self.generation_tokens += 1
            self.tokens_in_flight += 1
            if first_token_seconds is not None:
                self.ttft.observe(first_token_seconds)
            if gap_seconds is not None:
                self.itl.observe(gap_seconds)

    def request_finished(self, finish_reason: str, tokens: int, seconds: float) -> None:
        with self._lock:
            self.running -= 1
            self.tokens_in_flight -= tokens
            self.success[finish_reason] = self.success.get(finish_reason, 0) + 1
            self.e2e.observe(seconds)

    def render(self) -> str:
        with self._lock:
            base = {"engine": "0", "model_name": self.model_name}
            usage = min(1.0, max(0, self.tokens_in_flight) / self.kv_tokens)
            lines: list[str] = []
            gauges = (
                (
                    "vllm:num_requests_running",
                    "Number of requests in model execution batches.",
                    self.running,
                ),
                (
                    "vllm:num_requests_waiting",
                    "Number of requests waiting to be processed.",
                    self.waiting,
                ),
                ("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", usage),
            )
            for name, doc, value in gauges:
                lines += _family(name, doc, "gauge", [(name, base, value)])
            counters = (
                (
                    "vllm:prefix_cache_queries",
                    "Prefix cache queries, in terms of number of queried tokens.",
                    self.prefix_queries,
                ),
                (
                    "vllm:prefix_cache_hits",
                    "Prefix cache hits, in terms of number of cached tokens.",
                    self.prefix_hits,
                ),
                (
                    "vllm:num_preemptions",
                    "Cumulative number of preemption from the engine.",
                    self.preemptions,
                ),
                ("vllm:prompt_tokens", "Number of prefill tokens processed.", self.prompt_tokens),
                (
                    "vllm:generation_tokens",
                    "Number of generation tokens processed.",
                    self.generation_tokens,
                ),
            )
            for name, doc, value in counters:
                lines += self._counter(name, doc, [(base, value)])
            lines += self._counter(
                "vllm:request_success",
                "Count of successfully processed requests.",
                [({**base, "finished_reason": r}, n) for r, n in self.success.items()],
            )
            lines += self._histogram(
                "vllm:time_to_first_token_seconds",
                "Histogram of time to first token in seconds.",
                self.ttft,
                base,
            )
            lines += self._histogram(
                "vllm:inter_token_latency_seconds",
                "Histogram of inter-token latency in seconds.",
                self.itl,
                base,
            )
            lines += self._histogram(
                "vllm:e2e_request_latency_seconds",
                "Histogram of e2e request latency in seconds.",
                self.e2e,
                base,
            )
            return "\n".join(lines) + "\n"

    def _counter(
        self, name: str, doc: str, series: list[tuple[dict[str, str], float]]
    ) -> list[str]:
        total = [(f"{name}_total", labels, value) for labels, value in series]
        lines = _family(f"{name}_total", doc, "counter", total)
        created = [(f"{name}_created", labels, self.created) for labels, _ in series]
        return lines + _family(f"{name}_created", doc, "gauge", created)

    def _histogram(self, name: str, doc: str, h: _Histogram, base: dict[str, str]) -> list[str]:
        samples: list[tuple[str, dict[str, str], float]] = [
            (f"{name}_bucket", {**base, "le": _number(bound)}, count)
            for bound, count in zip((*h.buckets, float("inf")), (*h.counts, h.n), strict=True)
        ]
        samples += [(f"{name}_count", base, h.n), (f"{name}_sum", base, h.total)]
        created = [(f"{name}_created", base, self.created)]
        return _family(name, doc, "histogram", samples) + _family(
            f"{name}_created", doc, "gauge", created
        )


def _family(
    name: str, doc: str, kind: str, samples: list[tuple[str, dict[str, str], float]]
) -> list[str]:
    lines = [f"# HELP {name} {doc}", f"# TYPE {name} {kind}"]
    lines += [f"{sample}{{{_labels(labels)}}} {_number(v)}" for sample, labels, v in samples]
    return lines
