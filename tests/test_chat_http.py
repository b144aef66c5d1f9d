"""The chat client against the vLLM simulator, a real HTTP server on loopback: streamed and
whole replies, reasoning both ways vLLM sends it, and every way a request can fail."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.support.chat_helpers import MODEL, ask, chat_events
from tests.support.helpers import simulator
from vtui.backends.endpoint import EndpointError
from vtui.backends.endpoint.http import HttpEndpoint
from vtui.core.chat_stream import AnswerDelta, FinishReason, ReasoningDelta, ReplyRecorder
from vtui.core.records import ChatUsage

THINKER = "Qwen/Qwen3-8B"


def recorded(endpoint: HttpEndpoint, body: dict[str, object]) -> ReplyRecorder:
    recorder = ReplyRecorder(time.monotonic)
    for event in chat_events(endpoint, body):
        recorder.add(event)
    recorder.end()
    return recorder


def fault_of(endpoint: HttpEndpoint, body: dict[str, object]) -> EndpointError:
    with pytest.raises(EndpointError) as caught:
        chat_events(endpoint, body)
    return caught.value


def test_a_whole_reply_reads_the_same_as_a_streamed_one() -> None:
    with simulator("--model", MODEL) as sim:
        streamed = recorded(HttpEndpoint(sim.url), ask("Why?"))
        whole = chat_events(HttpEndpoint(sim.url), ask("Why?", stream=False))
    assert whole[0] == AnswerDelta(streamed.answer)
    assert FinishReason("stop") in whole
    assert isinstance(whole[-1], ChatUsage) and whole[-1] == streamed.usage


def test_reasoning_arrives_apart_with_a_reasoning_parser_and_in_think_tags_without() -> None:
    with simulator("--model", THINKER, "--reasoning-parser", "qwen3") as sim:
        events = chat_events(HttpEndpoint(sim.url), ask("2+2?", model=THINKER))
        with_parser = recorded(HttpEndpoint(sim.url), ask("2+2?", model=THINKER))
    assert isinstance(events[0], ReasoningDelta)  # delta.reasoning, as vLLM sends it
    with simulator("--model", THINKER) as sim:
        events = chat_events(HttpEndpoint(sim.url), ask("2+2?", model=THINKER))
        in_tags = recorded(HttpEndpoint(sim.url), ask("2+2?", model=THINKER))
    assert events[0] == AnswerDelta("<think>\n")  # the raw stream has the tags in the content
    for reply in (with_parser, in_tags):
        assert reply.reasoning.startswith("The user asks \u201c2+2?\u201d")
        assert reply.answer.startswith("This is vtui's vLLM simulator")
        assert "<think>" not in reply.answer and "</think>" not in reply.reasoning


def test_a_thought_opened_by_the_template_moves_out_of_the_answer_when_it_closes() -> None:
    with simulator("--model", THINKER, "--sim-think-in-template") as sim:
        events = chat_events(HttpEndpoint(sim.url), ask("2+2?", model=THINKER))
        streamed = recorded(HttpEndpoint(sim.url), ask("2+2?", model=THINKER))
        whole = recorded(HttpEndpoint(sim.url), ask("2+2?", model=THINKER, stream=False))
    # The raw stream starts inside the thought: no opening tag, only the closing one.
    raw = "".join(event.text for event in events if isinstance(event, AnswerDelta))
    assert raw.startswith("The user asks") and raw.count("</think>") == 1
    for reply in (streamed, whole):
        assert reply.reasoning.startswith("The user asks \u201c2+2?\u201d")
        assert not reply.reasoning.endswith("\n")
        assert reply.answer.startswith("This is vtui's vLLM simulator")
        assert "</think>" not in reply.answer + reply.reasoning


@pytest.mark.fault("endpoint-down-chat")
def test_a_stream_cut_midway_is_a_dropped_connection_not_a_short_reply() -> None:
    with simulator("--model", MODEL, "--sim-fault", "cut:5") as sim:
        endpoint = HttpEndpoint(sim.url)
        recorder = ReplyRecorder(time.monotonic)

        async def read() -> None:
            async for event in endpoint.chat(ask("go on")):
                recorder.add(event)

        with pytest.raises(EndpointError) as caught:
            asyncio.run(read())
    assert caught.value.fault.kind == "dropped"
    assert len(recorder.answer.split()) == 5  # the words before the cut are kept


@pytest.mark.fault("malformed-sse")
def test_a_malformed_chunk_and_an_error_event_are_named() -> None:
    with simulator("--model", MODEL, "--sim-fault", "malformed:3") as sim:
        malformed = fault_of(HttpEndpoint(sim.url), ask("hi"))
    assert malformed.fault.kind == "malformed" and "{not json" in malformed.fault.detail
    with simulator("--model", MODEL, "--sim-fault", "error:2") as sim:
        error = fault_of(HttpEndpoint(sim.url), ask("hi"))
    assert error.fault.kind == "server" and "EngineCore" in error.fault.detail


def test_wrong_key_too_long_and_unknown_model_come_back_as_http_faults() -> None:
    with simulator("--model", MODEL, "--max-model-len", "64", api_key="right") as sim:
        wrong_key = fault_of(HttpEndpoint(sim.url, "wrong"), ask("hi"))
        too_long = fault_of(HttpEndpoint(sim.url, "right"), ask("hi", max_tokens=100))
        unknown = fault_of(HttpEndpoint(sim.url, "right"), ask("hi", model="nope"))
        cards = HttpEndpoint(sim.url, "right").model_cards()
    assert wrong_key.fault.status == 401
    assert too_long.fault.status == 400
    assert "maximum context length is 64 tokens" in too_long.fault.detail
    assert unknown.fault.status == 404
    assert [(c.id, c.max_model_len) for c in cards] == [(MODEL, 64)]


@pytest.mark.fault("endpoint-down-chat")
def test_nothing_listening_and_a_silent_server_are_told_apart() -> None:
    with simulator("--model", MODEL) as sim:
        url = sim.url
    assert fault_of(HttpEndpoint(url), ask("hi")).fault.kind == "unreachable"
    with simulator("--model", MODEL, "--sim-token-delay", "2") as sim:
        slow = HttpEndpoint(sim.url, read_timeout=0.3)
        assert fault_of(slow, ask("hi")).fault.kind == "timeout"


def test_cancelling_the_reader_closes_the_connection_and_vllm_aborts_the_request() -> None:
    with simulator("--model", MODEL, "--sim-token-delay", "0.05") as sim:
        endpoint = HttpEndpoint(sim.url)
        got: list[object] = []

        async def read_then_stop() -> None:
            async def read() -> None:
                async for event in endpoint.chat(ask("a long one")):
                    got.append(event)

            task = asyncio.create_task(read())
            while len(got) < 3:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(read_then_stop())
        time.sleep(0.3)  # the server notices at its next write
        sim.proc.terminate()
        out, _ = sim.proc.communicate(timeout=10)
    assert 3 <= len(got) < 20
    assert "Aborted request chatcmpl-" in out
