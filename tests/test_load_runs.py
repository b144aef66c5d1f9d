"""The load test: its arithmetic on known timings, a run against the simulator whose own
/metrics confirm the count, and `vtui bench` as a user runs it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support.helpers import demo, simulator
from vtui.backends.endpoint.http import HttpEndpoint
from vtui.backends.files.profile_store import ProfileStore
from vtui.core import labels
from vtui.core.launch_spec import LaunchSpec
from vtui.core.load_runs import (
    CUT,
    DONE,
    ERROR,
    LoadSettings,
    RequestRecord,
    comparison_lines,
    percentile,
    prompt_text,
    summarise,
)
from vtui.core.records import ContainerState, Deployment
from vtui.core.serving_metrics import parse_metrics
from vtui.services.load_runner import launch_record, run_load_test
from vtui.sim.replies import count_prompt_tokens

MODEL = "Qwen/Qwen2.5-7B-Instruct"


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.99) == pytest.approx(3.97)
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


def record(
    started: float, tokens: list[float], outcome: str, usage: int | None = None
) -> RequestRecord:
    r = RequestRecord(started=started)
    for t in tokens:
        r.token(t)
    r.outcome, r.completion_tokens = outcome, usage
    return r


def test_report_from_known_timings() -> None:
    records = [
        # first token after 0.1 s, then gaps of 0.02 s; the server counted 4 tokens
        record(0.0, [0.1, 0.12, 0.14, 0.16], DONE, usage=4),
        record(0.0, [0.3, 0.34], DONE, usage=2),
        record(1.0, [1.2, 1.22, 1.24], CUT),  # still streaming at the end: 3 chunks count
        record(1.5, [], ERROR),
    ]
    records[-1].error = "http 429"
    report = summarise(records, LoadSettings(duration=2.0), "http://x", "m", elapsed=2.0)
    assert (report.completed, report.cut, dict(report.errors)) == (2, 1, {"http 429": 1})
    assert report.output_tokens == 4 + 2 + 3
    assert report.output_tps == pytest.approx(4.5)
    assert report.request_throughput == pytest.approx(1.0)
    assert report.ttft[0] == pytest.approx(0.2)  # TTFTs 0.1, 0.3, 0.2: the middle one
    assert report.ttft[2] == pytest.approx(0.2)
    assert report.itl[0] == pytest.approx(0.02)  # gaps 0.02 x5 and 0.04 x1
    assert report.itl[1] == pytest.approx(0.02 + 0.02 * 0.95)
    text = "\n".join(report.lines())
    assert "2 done (1.00/s), 1 cut at the end" in text
    assert "TTFT        p50 200 ms" in text and "1 http 429" in text


def test_a_run_where_nothing_finished_says_why_and_what_to_change() -> None:
    slow = [record(0.0, [0.1, 0.2], CUT), record(0.0, [0.1], CUT)]
    settings = LoadSettings(duration=1.0, max_tokens=512)
    report = summarise(slow, settings, "http://x", "m", elapsed=1.0)
    assert report.why_nothing_completed("--duration", "--max-tokens") == (
        "no request completed: 2 were still streaming when the 1 s ran out. Replies of 512 "
        "tokens take longer here: raise --duration or lower --max-tokens"
    )
    failed = [record(0.0, [], ERROR)]
    failed[0].error = "http 401"
    report = summarise(failed, settings, "http://x", "m", elapsed=1.0)
    assert report.why_nothing_completed() == "no request completed: 1 http 401"
    done = summarise([record(0.0, [0.1], DONE, usage=1)], settings, "http://x", "m", elapsed=1.0)
    assert done.why_nothing_completed() is None


def test_bad_settings_are_named() -> None:
    problems = LoadSettings(concurrency=0, duration=5000, prompt_tokens=10, max_tokens=0).problems()
    assert [name for name, _ in problems] == ["concurrency", "duration", "max_tokens"]
    assert "give 1 to 1,024" in problems[0][1]


def test_prompts_are_about_the_asked_length_and_share_no_prefix() -> None:
    a, b = prompt_text(300, 1), prompt_text(300, 2)
    assert a.split()[:2] != b.split()[:2]
    asked = count_prompt_tokens([{"role": "user", "content": a}])
    assert 290 <= asked <= 310


def test_a_load_test_against_the_simulator_is_confirmed_by_its_metrics() -> None:
    settings = LoadSettings(concurrency=4, duration=3.0, prompt_tokens=64, max_tokens=20)
    with simulator("--model", MODEL, "--sim-token-delay", "0.01", keep_log=False) as sim:
        before = parse_metrics(httpx.get(f"{sim.url}/metrics").text, 0.0)
        report = run_load_test(HttpEndpoint(sim.url), MODEL, settings)
        # The server finishes its side of each request a moment after the client's: wait
        # until it has none running.
        for _ in range(100):
            finished = httpx.get(f"{sim.url}/metrics").text
            after = parse_metrics(finished, 1.0)
            if after.running == 0:
                break
            time.sleep(0.02)
    served = (after.requests_done or 0) - (before.requests_done or 0)
    aborted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in finished.splitlines()
        if line.startswith("vllm:request_success_total") and 'finished_reason="abort"' in line
    )
    assert report.completed > 10
    # The simulator finished each request the test counted. A request cut as time ran out
    # may have had its last token sent already (the server counts it finished) or not yet
    # reached the server at all; none other shows up there.
    assert report.completed <= served - aborted <= report.completed + report.cut
    assert aborted <= report.cut
    assert served <= report.completed + report.cut
    assert report.error_count == 0
    # ignore_eos: every completed reply is max_tokens long.
    assert report.output_tokens >= report.completed * 20
    assert report.mean_prompt_tokens is not None and 55 <= report.mean_prompt_tokens <= 75
    assert report.ttft[0] is not None and report.ttft[0] < 0.5
    assert report.itl[0] == pytest.approx(0.01, abs=0.008)
    assert 2.9 <= report.elapsed <= 3.1


def test_a_refused_key_ends_the_run_early_with_the_reason() -> None:
    settings = LoadSettings(concurrency=2, duration=20.0, max_tokens=5)
    with simulator("--model", MODEL, api_key="right") as sim:
        report = run_load_test(HttpEndpoint(sim.url, api_key="wrong"), MODEL, settings)
    assert report.completed == 0
    assert report.elapsed < 5  # it gave up rather than hammer the server for 20 s
    assert set(report.errors) == {"http 401"}
    assert report.first_error and "401" in report.first_error


def test_the_saved_launch_hides_keys_and_environment_values() -> None:
    backends = demo()
    store = ProfileStore(backends.places.config)
    store.save(LaunchSpec(name="qwen", model=MODEL, env={"MY_SECRET": "hunter2"}))
    deployment = Deployment(
        container_id="c" * 64,
        name="vtui-qwen",
        image="vllm/vllm-openai:v0.33.0",
        model=MODEL,
        state=ContainerState.RUNNING,
        host="127.0.0.1",
        port=8000,
        labels={labels.PROFILE: "qwen"},
        command=("--model", "/app/model", "--api-key", "sk-live-123", "--hf-token=hf_abc"),
    )
    launch = launch_record(deployment, backends)
    text = json.dumps(launch)
    assert "sk-live-123" not in text and "hf_abc" not in text and "hunter2" not in text
    assert launch is not None and launch["profile"] == "qwen"
    assert launch["spec"]["model"] == MODEL and launch["spec"]["env"] == ["MY_SECRET"]


def test_comparison_says_which_run_did_better() -> None:
    a = {"settings": {"c": 8}, "results": {"output_tokens_per_s": 100.0, "ttft_s": {"p50": 0.2}}}
    b = {"settings": {"c": 8}, "results": {"output_tokens_per_s": 150.0, "ttft_s": {"p50": 0.1}}}
    lines = comparison_lines(a, b, ("fp16", "fp8"))
    tokens = next(line for line in lines if line.startswith("output tokens/s"))
    ttft = next(line for line in lines if line.startswith("TTFT p50"))
    assert "+50.0% (better)" in tokens
    assert "-50.0% (better)" in ttft  # lower latency is better
    assert not any(line.startswith("note:") for line in lines)


def test_vtui_bench_reports_saves_and_compares(tmp_path: Path) -> None:
    from tests.support.helpers import run_vtui

    with simulator("--model", MODEL, "--sim-token-delay", "0.005", keep_log=False) as sim:
        runs = [
            run_vtui(
                "bench",
                "--endpoint",
                sim.url,
                "--duration",
                "2",
                "--concurrency",
                str(n),
                "--max-tokens",
                "10",
                *extra,
                config=tmp_path,
            )
            for n, extra in ((2, ("--json",)), (4, ()))
        ]
    first, second = runs
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["settings"]["concurrency"] == 2 and data["model"] == MODEL
    assert data["results"]["requests_completed"] > 0 and data["launch"] is None
    assert second.returncode == 0, second.stderr
    assert "output" in second.stdout and "tokens/s" in second.stdout
    assert "bench: 4 requests at once for 2 s" in second.stderr
    saved = sorted((tmp_path / "state" / "vtui" / "bench").glob("*.json"))
    assert len(saved) == 2
    compared = run_vtui("bench", "--compare", str(saved[0]), str(saved[1]), config=tmp_path)
    assert compared.returncode == 0
    assert "not like for like" in compared.stdout  # 2 at once against 4 at once
    assert "requests/s" in compared.stdout


def test_vtui_bench_names_a_bad_option() -> None:
    from tests.support.helpers import run_vtui

    out = run_vtui("--demo", "bench", "--concurrency", "0")
    assert out.returncode == 1
    assert "--concurrency 0 is out of range: give 1 to 1,024" in out.stderr
    out = run_vtui("--demo", "bench", "--prompt-tokens", "0")
    assert "--prompt-tokens 0 is out of range" in out.stderr
