"""Following a vLLM start-up from its log: phases in order, their times, the load figures,
and how it ends."""

from __future__ import annotations

from datetime import datetime

import pytest

from vtui.core.startup import Phase, StartupTracker
from vtui.sim.catalogue import find
from vtui.sim.vllm_script import SimServerConfig, render, startup_steps


def simulated_log(fail: str | None = None) -> list[tuple[float, str]]:
    config = SimServerConfig("Qwen/Qwen3-8B", "Qwen/Qwen3-8B", find("Qwen/Qwen3-8B"), fail=fail)
    return render(startup_steps(config), datetime(2026, 1, 1), 60.0)


def test_a_healthy_start_walks_the_phases_in_order_with_vllms_figures() -> None:
    tracker = StartupTracker(started_at=0.0)
    seen = []
    for when, line in simulated_log():
        tracker.feed(line, when)
        if not seen or seen[-1] != tracker.phase:
            seen.append(tracker.phase)
    assert seen == [Phase.STARTING, Phase.LOADING, Phase.PROFILING, Phase.CAPTURING, Phase.READY]
    f = tracker.figures
    assert f.weights_gib is not None and 15 < f.weights_gib < 16
    assert f.kv_cache_gib is not None and f.kv_cache_tokens is not None and f.kv_cache_tokens > 1e5
    assert f.context_tokens == 40960 and f.max_concurrency is not None
    spent = dict(tracker.durations(60.0))
    assert set(spent) == {Phase.STARTING, Phase.LOADING, Phase.PROFILING, Phase.CAPTURING,
                          Phase.READY}  # fmt: skip
    assert sum(spent.values()) == pytest.approx(60.0)
    assert tracker.crash_line is None


def test_real_v1_lines_move_the_phases_and_give_the_figures() -> None:
    # Lines of vLLM 0.11's V1 engine as printed in vllm-project/vllm#25350 and #31273.
    tracker = StartupTracker(started_at=0.0)
    for t, line in enumerate([
        "(APIServer pid=1) INFO 09-21 10:00:00 [api_server.py:1839] vLLM API server version 0.11.0",
        "(EngineCore_DP0 pid=120) INFO 09-21 10:00:05 [gpu_model_runner.py:2602] Starting to "
        "load model Qwen/Qwen3-8B...",
        "Loading safetensors checkpoint shards:   3% Completed | 1/37 [00:02<01:39,  2.77s/it]",
        "(EngineCore_DP0 pid=120) INFO [gpu_model_runner.py:2653] Model loading took 29.09 GiB "
        "and 12.1 seconds",
        "(EngineCore_DP0 pid=120) INFO [gpu_worker.py:298] Available KV cache memory: 10.55 GiB",
        "(EngineCore_DP0 pid=120) INFO [kv_cache_utils.py:1087] GPU KV cache size: 230,528 tokens",
        "(EngineCore_DP0 pid=120) INFO [kv_cache_utils.py:868] Maximum concurrency for 100,000 "
        "tokens per request: 2.31x",
        "Capturing CUDA graphs (mixed prefill-decode, PIECEWISE): 100%|##########| 67/67",
        "(APIServer pid=1) INFO:     Application startup complete.",
        '(APIServer pid=1) INFO:     127.0.0.1:51234 - "POST /v1/chat/completions HTTP/1.1" 200 OK',
    ]):  # fmt: skip
        tracker.feed(line, float(t))
    assert tracker.phase is Phase.SERVING
    assert tracker.figures.lines() == [
        "weights 29.09 GiB", "KV cache 10.55 GiB", "230,528 KV tokens",
        "2.31x requests of 100,000 tokens at once",
    ]  # fmt: skip


@pytest.mark.fault("container-exit")
def test_a_failed_start_ends_crashed_with_the_line_and_exit_code() -> None:
    tracker = StartupTracker(started_at=0.0)
    for when, line in simulated_log("kv-cache"):
        tracker.feed(line, when)
    assert tracker.phase is Phase.PROFILING  # the log alone says where it stopped
    assert tracker.crash_line is not None and "EngineCore failed to start" in tracker.crash_line
    tracker.exited(1, oom_killed=False, now=61.0, asked=False)
    assert tracker.phase is Phase.CRASHED
    assert tracker.describe(61.0) == "crashed (exit 1)"


@pytest.mark.fault("container-oom")
def test_killed_for_memory_says_so_and_a_stop_asked_for_is_no_crash() -> None:
    killed = StartupTracker(started_at=0.0)
    killed.exited(137, oom_killed=True, now=5.0, asked=False)
    assert killed.describe(5.0) == "crashed (exit 137, killed: out of memory)"
    stopped = StartupTracker(started_at=0.0)
    stopped.feed("INFO:     Application startup complete.", 3.0)
    stopped.exited(137, oom_killed=False, now=9.0, asked=True)
    assert stopped.phase is Phase.STOPPED


def test_health_makes_it_ready_even_when_the_log_was_missed() -> None:
    tracker = StartupTracker(started_at=10.0)
    tracker.feed("Starting to load model x...", 12.0)
    tracker.healthy(40.0)
    assert tracker.phase is Phase.READY
    assert tracker.describe(45.0) == "ready; started in 30s (starting 2s, loading weights 28s)"


def test_phases_never_go_backwards() -> None:
    tracker = StartupTracker(started_at=0.0)
    tracker.feed("Application startup complete.", 1.0)
    tracker.feed("Starting to load model x...", 2.0)
    assert tracker.phase is Phase.READY


def test_a_ray_head_s_wait_for_its_nodes_is_a_figure_until_vllm_starts() -> None:
    from vtui.core.multinode import JOINED_LINE

    tracker = StartupTracker(started_at=0.0)
    tracker.feed(JOINED_LINE.format(n=1, want=2), 1.0)
    assert tracker.phase == Phase.STARTING
    assert tracker.figures.lines() == ["Ray nodes 1 of 2 joined"]
    tracker.feed("2026-12-07T10:00:00.000000000Z " + JOINED_LINE.format(n=2, want=2), 2.0)
    assert tracker.figures.ray_nodes == (2, 2)
    # Anyone's log may say it in passing: only the whole line counts.
    tracker.feed("echo 'vtui: 9 of 2 Ray nodes joined' and more", 3.0)
    assert tracker.figures.ray_nodes == (2, 2)
