"""/metrics: read with prometheus_client's parser, rates from counter deltas, percentiles from
histograms, and a simulator whose exposition is the one vLLM's prometheus_client writes."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.chat_helpers import ask, chat_events
from tests.support.helpers import free_port, simulator
from vtui.backends.endpoint.http import HttpEndpoint
from vtui.core.serving_metrics import Histogram as Hist
from vtui.core.serving_metrics import MetricsFormatError, ServingSample, parse_metrics
from vtui.core.serving_stats import ServingHistory, seconds_text
from vtui.services.serving import ABSENT, SERVING, UNREACHABLE, ServingWatch
from vtui.sim import metrics as sim_metrics
from vtui.sim.metrics import ServerMetrics

MODEL = "Qwen/Qwen2.5-7B-Instruct"
INF = float("inf")


# -- percentiles -------------------------------------------------------------------------------


def test_quantile_interpolates_within_the_bucket_as_prometheus_does() -> None:
    # 10 observations up to 0.1 s, 20 in (0.1, 0.2], 10 in (0.2, 0.4].
    h = Hist((0.1, 0.2, 0.4, INF), (10, 30, 40, 40), 8.0)
    assert h.quantile(0.5) == pytest.approx(0.15)  # rank 20: half way through (0.1, 0.2]
    assert h.quantile(0.99) == pytest.approx(0.392)  # rank 39.6
    assert h.quantile(0.25) == pytest.approx(0.1)  # rank 10: the top of the first bucket
    assert h.quantile(0.1) == pytest.approx(0.04)  # rank 4 of 10 in (0, 0.1]


def test_quantile_in_the_open_bucket_is_the_largest_finite_bound() -> None:
    h = Hist((0.1, 0.2, INF), (5, 5, 10), 30.0)
    assert h.quantile(0.99) == pytest.approx(0.2)
    assert Hist((0.1, INF), (0, 0), 0.0).quantile(0.5) is None  # nothing observed


def test_since_keeps_only_what_came_after_and_refuses_a_restart() -> None:
    old = Hist((0.1, 0.2, INF), (10, 10, 10), 0.5)
    new = Hist((0.1, 0.2, INF), (10, 20, 20), 2.0)
    recent = new.since(old)
    assert recent == Hist((0.1, 0.2, INF), (0, 10, 10), 1.5)
    assert recent.quantile(0.5) == pytest.approx(0.15)  # the old fast ones are not counted
    assert old.since(new) is None  # counts went down: the server restarted
    assert new.since(Hist((0.5, INF), (1, 1), 0.1)) is None  # other buckets


# -- parsing -----------------------------------------------------------------------------------


def served(metrics: ServerMetrics, prompt: int, gaps: list[float], ttft: float) -> None:
    metrics.request_started(prompt, [f"w{i}" for i in range(prompt)])
    metrics.token_generated(ttft, None)
    for gap in gaps:
        metrics.token_generated(None, gap)
    metrics.request_finished("stop", prompt + 1 + len(gaps), ttft + sum(gaps))


def test_parse_reads_the_simulators_exposition() -> None:
    metrics = ServerMetrics(MODEL, kv_tokens=1000)
    served(metrics, 40, [0.02, 0.03], ttft=0.05)
    metrics.request_started(100, [])  # still running
    metrics.waits(+1)
    sample = parse_metrics(metrics.render(), at=3.0)
    assert (sample.running, sample.waiting) == (1, 1)
    assert sample.kv_usage == pytest.approx(100 / 1000)
    assert (sample.prompt_tokens, sample.generation_tokens) == (140, 3)
    assert sample.requests_done == 1
    assert sample.prefix_queries == 140 and sample.preemptions == 0
    assert sample.ttft is not None and sample.ttft.count == 1
    assert sample.ttft.total == pytest.approx(0.05)
    assert sample.itl is not None and sample.itl.count == 2
    assert (
        sample.itl.bounds[-1] == INF and len(sample.itl.bounds) == len(sim_metrics.ITL_BUCKETS) + 1
    )


def test_parse_takes_the_names_of_earlier_releases_and_tolerates_missing_ones() -> None:
    text = """\
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="m"} 0.5
# TYPE vllm:num_preemptions_total counter
vllm:num_preemptions_total{model_name="m"} 3.0
# TYPE vllm:time_per_output_token_seconds histogram
vllm:time_per_output_token_seconds_bucket{le="0.01",model_name="m"} 2.0
vllm:time_per_output_token_seconds_bucket{le="+Inf",model_name="m"} 4.0
vllm:time_per_output_token_seconds_count{model_name="m"} 4.0
vllm:time_per_output_token_seconds_sum{model_name="m"} 0.1
vllm:generation_tokens_total{model_name="m"} 42.0
"""
    sample = parse_metrics(text, at=0.0)
    assert sample.kv_usage == 0.5
    assert sample.preemptions == 3
    assert sample.itl is not None and sample.itl.count == 4
    assert sample.generation_tokens == 42  # untyped, with its _total
    assert sample.running is None and sample.ttft is None and sample.prefix_hits is None


def test_engines_of_a_data_parallel_server_add_up() -> None:
    lines = ["# TYPE vllm:num_requests_running gauge", "# TYPE vllm:kv_cache_usage_perc gauge"]
    for engine, (running, usage) in enumerate([(3, 0.2), (5, 0.4)]):
        labels = f'engine="{engine}",model_name="m"'
        lines += [
            f"vllm:num_requests_running{{{labels}}} {running}",
            f"vllm:kv_cache_usage_perc{{{labels}}} {usage}",
        ]
    sample = parse_metrics("\n".join(lines) + "\n", at=0.0)
    assert sample.running == 8
    assert sample.kv_usage == pytest.approx(0.3)


def test_text_that_is_not_prometheus_raises_a_format_error() -> None:
    with pytest.raises(MetricsFormatError):
        parse_metrics("<html><body>Not Found</body></html>\n{{{ garbage", at=0.0)


# -- the history: rates and windows ------------------------------------------------------------


def sample(at: float, generation: float, prompt: float = 0.0, **kw: object) -> ServingSample:
    return ServingSample(at=at, generation_tokens=generation, prompt_tokens=prompt, **kw)  # type: ignore[arg-type]


def test_tokens_per_second_come_from_counter_deltas() -> None:
    history = ServingHistory()
    history.add(sample(0.0, 1000, prompt=500))
    history.add(sample(2.0, 1600, prompt=2500))
    view = history.view()
    assert view.generation_tps == pytest.approx(300.0)
    assert view.prompt_tps == pytest.approx(1000.0)
    assert view.generation_series == (None, pytest.approx(300.0))


def test_a_restart_or_a_failed_reading_gives_no_rate() -> None:
    history = ServingHistory()
    history.add(sample(0.0, 5000))
    history.add(sample(2.0, 40))  # the counter went down: a new server process
    assert history.view().generation_tps is None
    history.add_gap()
    history.add(sample(6.0, 400))
    assert history.view().generation_tps is None  # no rate across the gap
    history.add(sample(8.0, 600))
    assert history.view().generation_tps == pytest.approx(100.0)


def test_percentiles_and_hit_rate_cover_only_the_window() -> None:
    bounds = (0.05, 0.1, 1.0, INF)
    history = ServingHistory(window=60.0)
    # Long ago: slow first tokens, prefix cache cold.
    history.add(
        sample(
            0.0, 0, ttft=Hist(bounds, (0, 0, 50, 50), 40.0), prefix_queries=1000.0, prefix_hits=0.0
        )
    )
    history.add(
        sample(
            100.0,
            0,
            ttft=Hist(bounds, (0, 0, 50, 50), 40.0),
            prefix_queries=1000.0,
            prefix_hits=0.0,
        )
    )
    # Within the last minute: 10 fast ones, and half of the prompt tokens hit the cache.
    history.add(
        sample(
            150.0,
            0,
            ttft=Hist(bounds, (10, 10, 60, 60), 40.4),
            prefix_queries=3000.0,
            prefix_hits=1000.0,
        )
    )
    view = history.view()
    assert view.window_seconds == 50.0
    assert view.ttft_p50 == pytest.approx(0.025)  # only the 10 recent ones, all under 50 ms
    assert view.ttft_p99 == pytest.approx(0.0495)
    assert view.prefix_hit_rate == pytest.approx(0.5)


def test_figures_the_server_does_not_report_are_named_missing() -> None:
    history = ServingHistory()
    history.add(sample(0.0, 10))
    view = history.view()
    assert {"running", "ttft", "itl", "kv_usage"} <= view.missing
    assert "generation_tokens" not in view.missing


def test_seconds_are_written_for_people() -> None:
    assert [seconds_text(v) for v in (0.0423, 1.25, None)] == ["42 ms", "1.25 s", "N/A"]


# -- the simulator speaks vLLM's exposition ----------------------------------------------------


def structure(text: str) -> list[tuple[str, str, list[tuple[str, tuple[tuple[str, str], ...]]]]]:
    """Families, types, sample names and label sets: everything but the values."""
    return [
        (f.name, f.type, [(s.name, tuple(sorted(s.labels.items()))) for s in f.samples])
        for f in text_string_to_metric_families(text)
    ]


def test_simulator_exposition_is_what_prometheus_client_writes_for_vllms_metrics() -> None:
    # vLLM 0.33.0's definitions (vllm/v1/metrics/loggers.py), written by prometheus_client.
    registry = CollectorRegistry()
    names = ["model_name", "engine"]
    gauges = [
        ("vllm:num_requests_running", "Number of requests in model execution batches."),
        ("vllm:num_requests_waiting", "Number of requests waiting to be processed."),
        ("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage."),
    ]
    for name, doc in gauges:
        Gauge(name, doc, names, registry=registry).labels(MODEL, "0").set(0)
    counters = [
        (
            "vllm:prefix_cache_queries",
            "Prefix cache queries, in terms of number of queried tokens.",
        ),
        ("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens."),
        ("vllm:num_preemptions", "Cumulative number of preemption from the engine."),
        ("vllm:prompt_tokens", "Number of prefill tokens processed."),
        ("vllm:generation_tokens", "Number of generation tokens processed."),
    ]
    for name, doc in counters:
        Counter(name, doc, names, registry=registry).labels(MODEL, "0")
    success = Counter(
        "vllm:request_success",
        "Count of successfully processed requests.",
        [*names, "finished_reason"],
        registry=registry,
    )
    for reason in ("stop", "length", "abort", "error", "repetition"):
        success.labels(MODEL, "0", reason)
    histograms = [
        (
            "vllm:time_to_first_token_seconds",
            "Histogram of time to first token in seconds.",
            sim_metrics.TTFT_BUCKETS,
        ),
        (
            "vllm:inter_token_latency_seconds",
            "Histogram of inter-token latency in seconds.",
            sim_metrics.ITL_BUCKETS,
        ),
        (
            "vllm:e2e_request_latency_seconds",
            "Histogram of e2e request latency in seconds.",
            sim_metrics.E2E_BUCKETS,
        ),
    ]
    for name, doc, buckets in histograms:
        Histogram(name, doc, names, buckets=buckets, registry=registry).labels(MODEL, "0")
    reference = generate_latest(registry).decode()

    ours = ServerMetrics(MODEL, kv_tokens=1000).render()
    assert structure(ours) == structure(reference)

    # Line for line the same, but the numbers: HELP and TYPE lines, label order, bucket bounds.
    def shape(text: str) -> list[str]:
        return [
            line.rsplit(" ", 1)[0] if not line.startswith("#") else line
            for line in text.splitlines()
        ]

    assert shape(ours) == shape(reference)


def test_simulator_counts_move_as_it_serves() -> None:
    with simulator("--model", MODEL, "--sim-token-delay", "0.005") as sim:
        endpoint = HttpEndpoint(sim.url)
        before = parse_metrics(httpx.get(f"{sim.url}/metrics").text, 0.0)
        question = ask("the same long question " * 20, max_tokens=12)
        chat_events(endpoint, question)
        chat_events(endpoint, question)  # the same prompt again: its blocks are cached
        after = parse_metrics(endpoint.metrics_text() or "", 1.0)
    assert before.generation_tokens == 0 and before.requests_done == 0
    assert after.generation_tokens == 24
    assert after.requests_done == 2
    assert after.ttft is not None and after.ttft.count == 2
    assert after.itl is not None and after.itl.count == 22  # one gap fewer than tokens, each
    assert after.prefix_queries == after.prompt_tokens
    assert after.prefix_hits is not None and after.prefix_hits >= 0.4 * after.prompt_tokens
    assert after.running == 0 and after.kv_usage == 0


def test_simulator_queues_beyond_max_num_seqs() -> None:
    with simulator("--model", MODEL, "--max-num-seqs", "1", "--sim-token-delay", "0.05") as sim:
        endpoint = HttpEndpoint(sim.url)
        threads = [
            threading.Thread(target=chat_events, args=(endpoint, ask(f"q{i}", max_tokens=20)))
            for i in range(3)
        ]
        for t in threads:
            t.start()
        seen = []
        for _ in range(40):
            now = parse_metrics(endpoint.metrics_text() or "", 0.0)
            seen.append((now.running, now.waiting))
            if now.waiting == 2:
                break
            threading.Event().wait(0.02)
        for t in threads:
            t.join()
    assert (1, 2) in seen  # one in the batch, two waiting for a place


# -- the watch: every state a server can be in is shown, none raised -----------------------------


class NoMetrics(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that is not vLLM: no /metrics."""

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_watch_says_when_there_is_no_metrics_or_no_server() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), NoMetrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        absent = ServingWatch(HttpEndpoint(f"http://127.0.0.1:{server.server_port}")).step()
    finally:
        server.shutdown()
        server.server_close()
    assert absent.state == ABSENT and absent.view is None

    watch = ServingWatch(HttpEndpoint(f"http://127.0.0.1:{free_port()}", timeout=2))
    down = watch.step()
    assert down.state == UNREACHABLE
    assert down.problem and "GET /metrics" in down.problem


def test_watch_rates_follow_what_the_simulator_serves() -> None:
    with simulator("--model", MODEL, "--sim-token-delay", "0") as sim:
        endpoint = HttpEndpoint(sim.url)
        watch = ServingWatch(endpoint)
        first = watch.step(at=0.0)
        chat_events(endpoint, ask("one", max_tokens=30))
        chat_events(endpoint, ask("two", max_tokens=30))
        second = watch.step(at=2.0)
    assert first.state == SERVING and second.state == SERVING
    assert second.view is not None
    assert second.view.generation_tps == pytest.approx(60 / 2.0)
    assert second.view.requests_in_window == 2
    assert second.view.ttft_p50 is not None and second.view.ttft_p50 < 1.0
