"""What the last minutes of /metrics readings say: rates from counter deltas, latency
percentiles of the recent window, and the history behind the sparklines."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from vtui.core.serving_metrics import Histogram, ServingSample

SCRAPE_SECONDS = 2.0  # how often the Server screen reads /metrics

KEEP_SAMPLES = 150  # five minutes at one reading every 2 s
WINDOW_SECONDS = 60.0  # percentiles and hit rate describe this much of the recent past
REPORTED = (
    "running",
    "waiting",
    "kv_usage",
    "prefix_queries",
    "preemptions",
    "prompt_tokens",
    "generation_tokens",
    "ttft",
    "itl",
)


@dataclass(frozen=True)
class ServingView:
    """The figures the Server screen shows; None where the server does not report one."""

    running: float | None
    waiting: float | None
    kv_usage: float | None
    prompt_tps: float | None
    generation_tps: float | None
    prefix_hit_rate: float | None  # of the window; None when nothing was looked up
    preemptions: float | None  # since the server started
    preempted_recently: float | None  # in the window
    ttft_p50: float | None
    ttft_p99: float | None
    itl_p50: float | None
    itl_p99: float | None
    window_seconds: float  # how much time the window really covers
    requests_in_window: float | None
    running_series: tuple[float | None, ...]
    kv_series: tuple[float | None, ...]
    generation_series: tuple[float | None, ...]  # tokens/s at each reading
    # Figures the server does not report at all (another release, another server), as
    # opposed to figures with nothing to say yet (no request in the window).
    missing: frozenset[str] = frozenset()
    # Where a quantile falls in the lowest bucket, its bound ("< 10 ms"); and sum / count.
    ttft_p50_under: float | None = None
    ttft_p99_under: float | None = None
    itl_p50_under: float | None = None
    itl_p99_under: float | None = None
    ttft_mean: float | None = None
    itl_mean: float | None = None


class ServingHistory:
    def __init__(self, keep: int = KEEP_SAMPLES, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._samples: deque[ServingSample | None] = deque(maxlen=keep)
        self._generation_rates: deque[float | None] = deque(maxlen=keep)

    def __len__(self) -> int:
        return len(self._samples)

    @property
    def samples(self) -> list[ServingSample]:
        """The readings held, oldest first (gaps left out)."""
        return [s for s in self._samples if s is not None]

    def add(self, sample: ServingSample) -> None:
        previous = self._latest()
        self._generation_rates.append(
            None
            if previous is None
            else rate(previous.generation_tokens, sample.generation_tokens, sample.at - previous.at)
        )
        self._samples.append(sample)

    def add_gap(self) -> None:
        """A scrape that failed: the sparklines show the hole, and no rate spans it."""
        self._samples.append(None)
        self._generation_rates.append(None)

    def _latest(self) -> ServingSample | None:
        return self._samples[-1] if self._samples else None

    def view(self) -> ServingView:
        latest = self._latest()
        previous = self._samples[-2] if len(self._samples) > 1 else None
        oldest = self._window_start(latest)
        dt = latest.at - previous.at if latest and previous else 0.0
        ttft = _recent(latest.ttft if latest else None, oldest.ttft if oldest else None)
        itl = _recent(latest.itl if latest else None, oldest.itl if oldest else None)
        queries = _delta(oldest, latest, "prefix_queries")
        hits = _delta(oldest, latest, "prefix_hits")
        return ServingView(
            running=latest.running if latest else None,
            waiting=latest.waiting if latest else None,
            kv_usage=latest.kv_usage if latest else None,
            prompt_tps=rate(
                previous.prompt_tokens if previous else None,
                latest.prompt_tokens if latest else None,
                dt,
            ),
            generation_tps=self._generation_rates[-1] if self._generation_rates else None,
            prefix_hit_rate=hits / queries if hits is not None and queries else None,
            preemptions=latest.preemptions if latest else None,
            preempted_recently=_delta(oldest, latest, "preemptions"),
            ttft_p50=ttft.quantile(0.5) if ttft else None,
            ttft_p99=ttft.quantile(0.99) if ttft else None,
            itl_p50=itl.quantile(0.5) if itl else None,
            itl_p99=itl.quantile(0.99) if itl else None,
            window_seconds=latest.at - oldest.at if latest and oldest else 0.0,
            requests_in_window=_delta(oldest, latest, "requests_done"),
            running_series=tuple(s.running if s else None for s in self._samples),
            kv_series=tuple(s.kv_usage if s else None for s in self._samples),
            generation_series=tuple(self._generation_rates),
            missing=frozenset(
                name for name in REPORTED if latest is None or getattr(latest, name) is None
            ),
            ttft_p50_under=ttft.under_first_bound(0.5) if ttft else None,
            ttft_p99_under=ttft.under_first_bound(0.99) if ttft else None,
            itl_p50_under=itl.under_first_bound(0.5) if itl else None,
            itl_p99_under=itl.under_first_bound(0.99) if itl else None,
            ttft_mean=ttft.mean if ttft else None,
            itl_mean=itl.mean if itl else None,
        )

    def _window_start(self, latest: ServingSample | None) -> ServingSample | None:
        """The oldest reading within the window, unbroken by a failed scrape."""
        if latest is None:
            return None
        start = latest
        for sample in reversed(self._samples):
            if sample is None or latest.at - sample.at > self.window:
                break
            start = sample
        return start if start is not latest else None


def rate(before: float | None, after: float | None, seconds: float) -> float | None:
    """A counter's rate per second; None across a restart (the counter went down)."""
    if before is None or after is None or seconds <= 0 or after < before:
        return None
    return (after - before) / seconds


def _delta(old: ServingSample | None, new: ServingSample | None, field: str) -> float | None:
    if old is None or new is None:
        return None
    a, b = getattr(old, field), getattr(new, field)
    if a is None or b is None or b < a:
        return None
    return float(b - a)


def _recent(latest: Histogram | None, oldest: Histogram | None) -> Histogram | None:
    if latest is None or oldest is None:
        return None
    recent = latest.since(oldest)
    return recent if recent is not None and recent.count > 0 else None


def seconds_text(seconds: float | None) -> str:
    """'42 ms', '1.25 s', 'N/A'."""
    if seconds is None:
        return "N/A"
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def count_text(value: float | None) -> str:
    return "N/A" if value is None else f"{value:,.0f}"


def percent_text(fraction: float | None) -> str:
    return "N/A" if fraction is None else f"{fraction * 100:.1f}%"
