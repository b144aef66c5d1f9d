"""vtui against the bytes a real vLLM 0.26.0 wrote on an H200 (tests/data/real-vllm/, from
../shared/real-vllm/captured/: the whole log of a live server, and its /metrics after a
load test). Each figure vtui reads is checked against the line or the lines it comes from."""

from __future__ import annotations

import json
import re
from pathlib import Path

from vtui.core.chat_errors import CLI_HINTS, ChatFault, ChatTarget, explain
from vtui.core.log_buffer import level_of
from vtui.core.serving_metrics import parse_metrics
from vtui.core.startup import Phase, StartupTracker

DATA = Path(__file__).parent / "data" / "real-vllm"
LOG = (DATA / "serve.log").read_text(encoding="utf-8").splitlines()
METRICS = (DATA / "metrics-after-bench.txt").read_text(encoding="utf-8")


def the_line(needle: str) -> str:
    (line,) = [line for line in LOG if needle in line]
    return line


def number_in(needle: str, pattern: str) -> float:
    found = re.search(pattern, the_line(needle))
    assert found is not None
    return float(found.group(1).replace(",", ""))


def test_every_phase_of_a_real_start_is_seen_in_order_with_its_figures() -> None:
    tracker = StartupTracker(started_at=0.0)
    phases: list[Phase] = []
    for i, line in enumerate(LOG):
        tracker.feed(line, i * 0.01)
        if not phases or phases[-1] != tracker.phase:
            phases.append(tracker.phase)
    # Model Runner V2 ("Loading model from scratch") included: the tracker skipped it.
    assert phases == [Phase.STARTING, Phase.LOADING, Phase.PROFILING, Phase.CAPTURING,
                      Phase.READY, Phase.SERVING]  # fmt: skip
    figures = tracker.figures
    assert figures.weights_gib == number_in("Model loading took", r"took ([\d.]+) GiB")
    assert figures.kv_cache_gib == number_in("Available KV cache memory", r"([\d.]+) GiB")
    assert figures.kv_cache_tokens == number_in("GPU KV cache size", r"size: ([\d,]+) tokens")
    assert figures.max_concurrency == number_in("Maximum concurrency", r": ([\d.]+)x")
    assert figures.cuda_graphs_gib == number_in("Graph capturing finished", r"took ([\d.]+) GiB")
    assert tracker.crash_line is None  # a server that served: no false crash


def test_a_prefixed_traceback_line_is_a_crash_and_an_error() -> None:
    line = "(EngineCore pid=2329) ValueError: No available memory for the cache blocks."
    assert level_of(line) == "ERROR"
    tracker = StartupTracker(started_at=0.0)
    tracker.feed(LOG[0], 0.0)
    tracker.feed(line, 1.0)
    assert tracker.crash_line == line


def test_the_real_over_context_error_is_told_without_contradiction() -> None:
    line = the_line("maximum context length is 4096 tokens")
    message = line.split("VLLMValidationError: ", 1)[1]
    body = json.dumps({"error": {"message": message, "code": 400}})
    said = explain(ChatFault("http", body, 400), ChatTarget("u", "x", max_model_len=4096),
                   hints=CLI_HINTS)  # fmt: skip
    assert "need 4,097 tokens" in said.title and "more than the 4,096" in said.title
    assert "conversation 4,089, the reply up to 8" in said.title
    assert "--max-tokens" in said.advice


def _sum(name: str) -> float:
    """The sum of one family's samples, read from the text by hand."""
    total = 0.0
    for line in METRICS.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_the_real_metrics_page_reads_as_its_own_sums() -> None:
    sample = parse_metrics(METRICS, at=0.0)
    assert sample.generation_tokens == _sum("vllm:generation_tokens_total")
    assert sample.prompt_tokens == _sum("vllm:prompt_tokens_total")
    assert sample.requests_done == _sum("vllm:request_success_total") == 458.0
    assert sample.running == _sum("vllm:num_requests_running")
    assert sample.ttft is not None
    assert sample.ttft.count == _sum("vllm:time_to_first_token_seconds_count")
    assert sample.ttft.total == _sum("vllm:time_to_first_token_seconds_sum")


def test_a_wrong_key_is_told_before_any_other_step() -> None:
    """vLLM 0.26 answers a wrong key with 401 on /v1/models, the first thing `vtui chat
    --endpoint` asks: that is the explanation, not "cannot list the models"."""
    import os
    import subprocess
    import sys

    from tests.support.hostile_endpoint import hostile_endpoint

    with hostile_endpoint() as server:
        server.models_status = 401
        server.models_body = b'{"error": "Unauthorized"}'
        done = subprocess.run(
            [sys.executable, "-m", "vtui", "chat", "--endpoint", server.url, "--prompt", "hi"],
            capture_output=True, text=True, timeout=60, env=dict(os.environ),
        )  # fmt: skip
    assert done.returncode == 1
    assert "401 Unauthorized: the server wants a different API key" in done.stderr
    assert "vtui sent no API key" in done.stderr and "cannot list" not in done.stderr
