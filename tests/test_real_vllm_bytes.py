"""vtui against the bytes a real vLLM 0.26.0 wrote on an H200 (tests/data/real-vllm/, from
../shared/real-vllm/captured/: the whole log of a live server, and its /metrics after a
load test). Each figure vtui reads is checked against the line or the lines it comes from."""

from __future__ import annotations

import json
import re
from pathlib import Path

from vtui.core.calibration import StartKey, StartRecord, budget_of, measured_from
from vtui.core.chat_errors import CLI_HINTS, ChatFault, ChatTarget, explain
from vtui.core.kv_cache import GIB
from vtui.core.log_buffer import level_of
from vtui.core.serving_metrics import parse_metrics
from vtui.core.startup import LoadFigures, Phase, StartupTracker

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


def walked(lines: list[str]) -> tuple[StartupTracker, list[Phase]]:
    """The tracker fed a log line by line, and each phase it went through, in order."""
    tracker = StartupTracker(started_at=0.0)
    phases: list[Phase] = []
    for i, line in enumerate(lines):
        tracker.feed(line, i * 0.01)
        if not phases or phases[-1] != tracker.phase:
            phases.append(tracker.phase)
    return tracker, phases


def test_every_phase_of_a_real_start_is_seen_in_order_with_its_figures() -> None:
    tracker, phases = walked(LOG)
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


# -- through the process runtime, on the device machine (vtui up of a process profile) ------

PROCESS_LOG = (DATA / "process-serve.log").read_text(encoding="utf-8").splitlines()
STARVED_LOG = (DATA / "process-starve.log").read_text(encoding="utf-8").splitlines()


def test_a_real_vllm_run_as_a_process_walks_the_phases_with_its_figures() -> None:
    """`vtui logs` of a `vllm serve` process vtui started (--enforce-eager: no graphs)."""
    tracker, phases = walked(PROCESS_LOG)
    assert phases[:4] == [Phase.STARTING, Phase.LOADING, Phase.PROFILING, Phase.READY]
    assert tracker.figures.weights_gib == 0.69
    assert tracker.figures.kv_cache_gib == 127.4
    assert tracker.figures.kv_cache_tokens == 11_131_936
    assert tracker.crash_line is None


def test_a_real_start_refused_for_memory_is_a_crash_with_its_cause_and_fix() -> None:
    """--gpu-memory-utilization 0.003 on an H200: vLLM's own refusal, as the process left it."""
    from vtui.core.log_explainer import explain as explain_log

    tracker = StartupTracker(started_at=0.0)
    for i, line in enumerate(STARVED_LOG):
        tracker.feed(line, i * 0.01)
    assert tracker.crash_line is not None and "EngineCore failed to start" in tracker.crash_line
    why = explain_log(STARVED_LOG)
    assert why is not None and "no GPU memory at all for the KV cache" in why.cause
    assert "ValueError: No available memory for the cache blocks" in why.line
    assert why.setting is not None and why.setting[0] == "--gpu-memory-utilization"
    assert isinstance(why.setting[1], float) and why.setting[1] > 0.003


def test_the_real_400_body_of_a_prompt_over_the_context_reads_one_way() -> None:
    body = (DATA / "400-context.json").read_text(encoding="utf-8")
    for known in (4096, None):  # the deployment's length known, or not (--endpoint)
        said = explain(ChatFault("http", body, 400), ChatTarget("u", "x", max_model_len=known),
                       hints=CLI_HINTS)  # fmt: skip
        assert "4,097" in said.title and "4,096" in said.title, said.title
        assert "--max-tokens" in said.advice


def test_the_real_401_and_404_bodies_name_the_key_and_the_served_model() -> None:
    from vtui.backends.endpoint.http import models_of

    unauthorized = explain(ChatFault("http", (DATA / "401.json").read_text(), 401),
                           ChatTarget("u", "x"), hints=CLI_HINTS)  # fmt: skip
    assert "401 Unauthorized" in unauthorized.title
    served = tuple(card.id for card in models_of(json.loads((DATA / "v1-models.json").read_text())))
    assert served == ("x",)
    target = ChatTarget("u", "/models/x", served_models=served)
    body = (DATA / "404-model.json").read_text()
    missing = explain(ChatFault("http", body, 404), target, hints=CLI_HINTS)
    assert "x" in missing.advice and "--model" in missing.advice


def test_a_real_stream_is_read_to_its_text_and_the_servers_token_count() -> None:
    from vtui.core.chat_stream import ReplyRecorder, events_of

    raw = (DATA / "stream.sse").read_text(encoding="utf-8")
    payloads = [line[len("data: ") :] for line in raw.splitlines() if line.startswith("data: ")]
    contents = []
    for payload in payloads:
        if payload != "[DONE]":
            for choice in json.loads(payload).get("choices") or []:
                contents.append(choice["delta"].get("content") or "")
    recorder = ReplyRecorder(lambda: 0.0)
    for payload in payloads[: payloads.index("[DONE]")]:  # the end, as the client reads it
        for event in events_of(payload):
            recorder.add(event)
    recorder.end()
    assert recorder.answer == "".join(contents) and recorder.answer
    assert recorder.usage is not None and recorder.usage.completion_tokens == 12
    assert recorder.tokens_so_far == 12


def test_an_itl_below_vllms_lowest_bucket_is_its_mean_not_an_invented_quantile() -> None:
    """vLLM's lowest ITL bucket is le=0.01; on a fast server nearly every token comes sooner,
    and interpolating inside that bucket gave "p50 5.0 ms, p99 9.9 ms" for a mean of 2.3 ms."""
    from vtui.core.serving_stats import ServingHistory
    from vtui.services.serving import SERVING, ServingUpdate
    from vtui.ui.widgets.serving_panel import serving_text

    def zeroed(line: str) -> str:
        if line.startswith("vllm:") and not line.startswith("#"):
            return line.rsplit(" ", 1)[0] + " 0.0"
        return line

    before = "\n".join(zeroed(line) for line in METRICS.splitlines()) + "\n"
    history = ServingHistory()
    history.add(parse_metrics(before, at=0.0))
    history.add(parse_metrics(METRICS, at=10.0))
    view = history.view()
    mean = _sum("vllm:inter_token_latency_seconds_sum") / _sum(
        "vllm:inter_token_latency_seconds_count"
    )
    assert view.itl_mean is not None and abs(view.itl_mean - mean) < 1e-12
    assert view.itl_p99_under == 0.01
    shown = serving_text(ServingUpdate(SERVING, view), 110).plain
    itl = next(line for line in shown.splitlines() if "ITL" in line)
    assert f"mean {mean * 1000:.1f} ms \u00b7 all < 10 ms" in itl, itl
    assert "p99" not in itl.split("ITL", 1)[1]


# ---- vtui probe's own starts of real vLLM 0.26.0 (dummy weights, H200) ----------------------


def _figures_of(name: str) -> LoadFigures:
    tracker = StartupTracker(started_at=0.0)
    for line in (DATA / name).read_text().splitlines():
        tracker.feed(line, 1.0)
    return tracker.figures


def test_a_v2_start_is_read_whole_and_its_graphs_are_not_counted_against_the_cache() -> None:
    f = _figures_of("probe-llama8b.log")
    assert (f.vllm_version, f.runner, f.utilization, f.requested_gib) == (
        "0.26.0",
        "V2",
        0.92,
        128.62,
    )
    assert (f.weights_gib, f.activation_gib, f.non_torch_gib) == (15.0, 1.1, 0.22)
    assert f.graph_estimate_gib == 0.0 and f.cuda_graphs_gib == 0.98
    assert f.kv_cache_tokens == 919_824 and f.engine_ready
    measured = measured_from(f)
    assert measured is not None and measured.budget_known
    record = StartRecord("2026-12-02T03:38:00+00:00", "probe", StartKey("m", "NVIDIA H200", 143155),
                         "0.26.0", "V2", 8192, 0.92, measured)  # fmt: skip
    graphs = budget_of(record).cuda_graphs / GIB
    assert graphs < 0.05  # what is left of the request after the rest and the cache


def test_a_v1_start_sets_aside_its_graph_estimate_before_the_cache() -> None:
    f = _figures_of("probe-qwen3-30b-a3b-v1.log")
    assert f.runner is None and f.graph_estimate_gib == 0.64 and f.cuda_graphs_gib == 0.8
    assert f.weights_gib == 56.88 and f.kv_cache_gib == 68.18


def test_a_refused_length_gives_vllms_longest_that_fits() -> None:
    f = _figures_of("probe-qwen25-32b-refused.log")
    assert f.longest_fitting == 28_784 and f.kv_cache_tokens is None
