"""Serving counters kept by the simulator, written as vLLM's Prometheus metrics."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

# vLLM's histogram buckets for time to first token and end-to-end latency (seconds).
TTFT_BUCKETS = (
    0.001,
    0.005,
    0.01,
    0.02,
    0.04,
    0.06,
    0.08,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)
E2E_BUCKETS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0)


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

    def render(self, name: str, labels: str) -> list[str]:
        lines = [f"# TYPE {name} histogram"]
        for bound, c in zip(self.buckets, self.counts, strict=True):
            lines.append(f'{name}_bucket{{{labels},le="{bound}"}} {c}')
        lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {self.n}')
        lines.append(f"{name}_count{{{labels}}} {self.n}")
        lines.append(f"{name}_sum{{{labels}}} {self.total}")
        return lines


class ServerMetrics:
    def __init__(self, model_name: str, kv_tokens: int) -> None:
        self._lock = threading.Lock()
        self.model_name = model_name
        self.kv_tokens = max(1, kv_tokens)
        self.running = 0
        self.waiting = 0
        self.tokens_in_flight = 0
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.success: dict[str, int] = {"stop": 0, "length": 0, "abort": 0}
        self.ttft = _Histogram(TTFT_BUCKETS)
        self.e2e = _Histogram(E2E_BUCKETS)

    def request_started(self, prompt_tokens: int) -> None:
        with self._lock:
            self.running += 1
            self.tokens_in_flight += prompt_tokens
            self.prompt_tokens += prompt_tokens

    def token_generated(self, first_token_seconds: float | None) -> None:
        with self._lock:
            self.generation_tokens += 1
            self.tokens_in_flight += 1
            if first_token_seconds is not None:
                self.ttft.observe(first_token_seconds)

    def request_finished(self, finish_reason: str, tokens: int, seconds: float) -> None:
        with self._lock:
            self.running -= 1
            self.tokens_in_flight -= tokens
            self.success[finish_reason] = self.success.get(finish_reason, 0) + 1
            self.e2e.observe(seconds)

    def render(self) -> str:
        with self._lock:
            labels = f'engine="0",model_name="{self.model_name}"'
            usage = min(1.0, max(0, self.tokens_in_flight) / self.kv_tokens)
            lines = [
                "# HELP vllm:num_requests_running Number of requests in model execution batches.",
                "# TYPE vllm:num_requests_running gauge",
                f"vllm:num_requests_running{{{labels}}} {float(self.running)}",
                "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
                "# TYPE vllm:num_requests_waiting gauge",
                f"vllm:num_requests_waiting{{{labels}}} {float(self.waiting)}",
                "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
                "# TYPE vllm:kv_cache_usage_perc gauge",
                f"vllm:kv_cache_usage_perc{{{labels}}} {usage}",
                "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.",
                "# TYPE vllm:prompt_tokens_total counter",
                f"vllm:prompt_tokens_total{{{labels}}} {float(self.prompt_tokens)}",
                "# HELP vllm:generation_tokens_total Number of generation tokens processed.",
                "# TYPE vllm:generation_tokens_total counter",
                f"vllm:generation_tokens_total{{{labels}}} {float(self.generation_tokens)}",
                "# HELP vllm:request_success_total Count of successfully processed requests.",
                "# TYPE vllm:request_success_total counter",
            ]
            for reason, n in sorted(self.success.items()):
                lines.append(
                    f'vllm:request_success_total{{{labels},finished_reason="{reason}"}} {float(n)}'
                )
            lines += self.ttft.render("vllm:time_to_first_token_seconds", labels)
            lines += self.e2e.render("vllm:e2e_request_latency_seconds", labels)
            return "\n".join(lines) + "\n"
