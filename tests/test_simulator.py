"""The vLLM simulator speaks vLLM's HTTP API and fails the way vLLM fails."""

from __future__ import annotations

import re
import signal

import httpx
import pytest

from tests.support.chat_helpers import ask, chat_events
from tests.support.helpers import run_simulator_to_exit, simulator
from vtui.backends.endpoint import EndpointError
from vtui.backends.endpoint.http import HttpEndpoint
from vtui.core.chat_stream import AnswerDelta, FinishReason
from vtui.core.records import ChatUsage

MODEL = "Qwen/Qwen2.5-7B-Instruct"


def test_models_route_wants_the_key_and_answers_like_vllm() -> None:
    with simulator("--model", MODEL, api_key="k-123") as sim:
        assert httpx.get(f"{sim.url}/v1/models").status_code == 401
        wrong = httpx.get(f"{sim.url}/v1/models", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.json() == {"error": "Unauthorized"}
        # /health and /metrics stay open, as in vLLM.
        assert httpx.get(f"{sim.url}/health").status_code == 200
        assert httpx.get(f"{sim.url}/metrics").status_code == 200
        body = httpx.get(f"{sim.url}/v1/models", headers={"Authorization": "Bearer k-123"}).json()
    assert body["object"] == "list"
    card = body["data"][0]
    assert card["id"] == MODEL
    assert card["owned_by"] == "vllm"
    assert card["max_model_len"] == 32768
    assert card["permission"][0]["object"] == "model_permission"


def test_endpoint_client_reports_a_wrong_key() -> None:
    with simulator("--model", MODEL, api_key="right") as sim:
        with pytest.raises(EndpointError, match="401"):
            HttpEndpoint(sim.url, "wrong").served_models()
        assert HttpEndpoint(sim.url, "right").served_models() == [MODEL]


def test_streaming_chat_arrives_in_pieces_then_usage() -> None:
    with simulator("--model", MODEL, "--served-model-name", "qwen") as sim:
        items = chat_events(HttpEndpoint(sim.url), ask("What is vLLM?", model="qwen"))
    pieces = [i.text for i in items if isinstance(i, AnswerDelta)]
    usages = [i for i in items if isinstance(i, ChatUsage)]
    assert len(pieces) > 10
    assert "What is vLLM?" in "".join(pieces)
    assert usages == [
        ChatUsage(prompt_tokens=usages[0].prompt_tokens, completion_tokens=len(pieces))
    ]
    assert items[-1] == usages[0]
    assert FinishReason("stop") in items


def test_sse_wire_format_ends_with_done_and_honours_max_tokens() -> None:
    with simulator("--model", MODEL) as sim:
        with httpx.stream(
            "POST",
            f"{sim.url}/v1/chat/completions",
            json={
                "model": MODEL,
                "stream": True,
                "max_tokens": 3,
                "messages": [{"role": "user", "content": "hi"}],
            },
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = [line for line in response.iter_lines() if line]
        plain = httpx.post(
            f"{sim.url}/v1/chat/completions",
            json={
                "model": MODEL,
                "messages": [{"role": "user", "content": "hi"}],
                "max_tokens": 2,
            },
        ).json()
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    assert '"finish_reason": "length"' in lines[-2]  # no usage chunk unless asked for
    assert plain["choices"][0]["finish_reason"] == "length"
    assert plain["usage"]["completion_tokens"] == 2


def test_unknown_model_and_bad_body_are_refused() -> None:
    with simulator("--model", MODEL) as sim:
        missing = httpx.post(
            f"{sim.url}/v1/chat/completions",
            json={"model": "other", "messages": [{"role": "user", "content": "x"}]},
        )
        broken = httpx.post(f"{sim.url}/v1/chat/completions", content=b"{not json")
    assert missing.status_code == 404
    assert "does not exist" in missing.json()["error"]["message"]
    assert broken.status_code == 400


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)}\{{[^}}]*\}} (\S+)$", text, re.M)
    assert match, name
    return float(match.group(1))


def test_metrics_count_what_was_served() -> None:
    with simulator("--model", MODEL) as sim:
        before = httpx.get(f"{sim.url}/metrics").text
        chat_events(HttpEndpoint(sim.url), ask("count me", max_tokens=5))
        after = httpx.get(f"{sim.url}/metrics").text
    assert metric(before, "vllm:generation_tokens_total") == 0
    assert metric(after, "vllm:generation_tokens_total") == 5
    assert metric(after, "vllm:prompt_tokens_total") > 0
    assert metric(after, "vllm:num_requests_running") == 0
    assert metric(after, "vllm:time_to_first_token_seconds_count") == 1
    assert re.search(
        r'^vllm:request_success_total\{[^}]*finished_reason="length"[^}]*\} 1\.0$', after, re.M
    )


def test_startup_log_reads_like_vllm_and_sigterm_stops_cleanly() -> None:
    with simulator("--model", MODEL, "--trust-remote-code", "--dtype", "auto") as sim:
        sim.proc.send_signal(signal.SIGTERM)
        out, _ = sim.proc.communicate(timeout=10)
    assert sim.proc.returncode == 0
    assert "vLLM API server version" in out
    assert "'trust_remote_code': True" in out and "'dtype': 'auto'" in out
    assert re.search(r"Available KV cache memory: \d+\.\d\d GiB", out)
    assert "Application startup complete." in out
    assert out.rstrip().endswith("Finished server process [1]")


def test_max_model_len_beyond_the_kv_cache_fails_like_vllm() -> None:
    out = run_simulator_to_exit(
        "--model",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--gpu-memory-utilization",
        "0.3",
        "--max-model-len",
        "131072",
        "--sim-gpu-memory-gib",
        "79.19",
    )
    assert out.returncode == 1
    match = re.search(
        r"To serve at least one request with the models's max seq len \(131072\), "
        r"\((\d+\.\d+) GiB KV cache is needed, which is larger than the available "
        r"KV cache memory \((\d+\.\d+) GiB\)\. Based on the available memory, the "
        r"estimated maximum model length is (\d+)\.",
        out.stdout,
    )
    assert match, out.stdout[-2000:]
    needed, available, fitting = float(match[1]), float(match[2]), int(match[3])
    assert needed == pytest.approx(16.0, abs=0.01)  # 131072 tokens x 128 KiB per token
    assert available < needed
    assert 0 < fitting < 131072
    assert "Application startup complete." not in out.stdout


def test_weights_larger_than_the_card_fail_with_cuda_oom() -> None:
    out = run_simulator_to_exit("--model", "meta-llama/Llama-3.3-70B-Instruct")
    assert out.returncode == 1
    assert "torch.OutOfMemoryError: CUDA out of memory." in out.stdout
    assert "Loading safetensors" not in out.stdout


@pytest.mark.parametrize(
    ("mode", "text"),
    [
        ("no-cache-blocks", "No available memory for the cache blocks"),
        ("kv-cache", "KV cache is needed, which is larger than the available KV cache memory"),
        ("oom", "CUDA out of memory"),
    ],
)
def test_failures_can_be_forced(mode: str, text: str) -> None:
    out = run_simulator_to_exit("--model", MODEL, "--fail", mode)
    assert out.returncode == 1
    assert text in out.stdout
    assert "RuntimeError: Engine core initialization failed." in out.stdout
