"""The chat's pure parts: SSE decoding, chunk reading, <think> splitting, timing, saving, and
the words a failure is explained in."""

from __future__ import annotations

import json

import pytest

from tests.support.helpers import TickingClock
from vtui.core.chat import ChatTurn, Conversation, SamplingSettings, parse_extra
from vtui.core.chat_errors import CLI_HINTS, ChatFault, ChatTarget, explain
from vtui.core.chat_stream import (
    AnswerDelta,
    AnswerWasThought,
    FinishReason,
    MalformedChunk,
    ReasoningDelta,
    ReplyRecorder,
    StreamedError,
    ThinkSplitter,
    events_of,
)
from vtui.core.records import ChatUsage
from vtui.core.sse import SseDecoder, SseEvent


def decode(lines: list[str]) -> list[SseEvent]:
    decoder = SseDecoder()
    return [e for e in (decoder.feed(line) for line in lines) if e is not None]


def test_sse_events_end_at_blank_lines_and_join_their_data_lines() -> None:
    first = ["\ufeff: keep-alive", "data: one", "data:two", "", ""]
    events = decode([*first, "event: ping", "id: 7", "data: x", ""])
    assert events == [SseEvent("one\ntwo"), SseEvent("x", "ping", "7")]


@pytest.mark.fault("malformed-sse")
def test_an_sse_event_cut_off_before_its_blank_line_is_never_delivered() -> None:
    decoder = SseDecoder()
    assert decoder.feed('data: {"choices": []}') is None
    assert decoder.incomplete


def chunk(delta: dict[str, object], finish: str | None = None, **extra: object) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra})


def test_chunks_give_answer_reasoning_finish_and_usage() -> None:
    assert events_of(chunk({"content": "Hi"})) == [AnswerDelta("Hi")]
    assert events_of(chunk({"reasoning": "hm"})) == [ReasoningDelta("hm")]
    assert events_of(chunk({"reasoning_content": "hm"})) == [ReasoningDelta("hm")]
    # Some vLLM releases send both names: the thought is shown once.
    assert events_of(chunk({"reasoning": "hm", "reasoning_content": "hm"})) == [
        ReasoningDelta("hm")
    ]
    last = events_of(chunk({"content": "."}, "length"))
    assert last == [AnswerDelta("."), FinishReason("length")]
    usage = json.dumps({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3}})
    assert events_of(usage) == [ChatUsage(9, 3)]


@pytest.mark.fault("malformed-sse")
def test_chunks_that_are_not_chunks_are_refused_by_name() -> None:
    with pytest.raises(MalformedChunk, match="not json"):
        events_of("{not json")
    with pytest.raises(MalformedChunk):
        events_of('{"choices": "nope"}')
    with pytest.raises(StreamedError, match="EngineCore"):
        events_of('{"error": {"message": "EngineCore died", "code": 500}}')


def split(pieces: list[str]) -> tuple[str, str]:
    recorder = ReplyRecorder(TickingClock(step=0.1))
    for piece in pieces:
        recorder.add(AnswerDelta(piece))
    recorder.end()
    return recorder.reasoning, recorder.answer


def test_think_tags_move_the_thought_out_even_split_across_chunks() -> None:
    assert split(["<think>\nweigh it", "</think>\n\nYes."]) == ("weigh it", "Yes.")
    assert split(["  <th", "ink>a", "b</th", "ink>", "c"]) == ("ab", "c")
    # Only a <think> that opens the reply is a thought; later ones are the answer's own text.
    assert split(["Use ", "<think> tags"]) == ("", "Use <think> tags")
    # Stopped mid-thought: what came is still the thought.
    assert split(["<think>still go"]) == ("still go", "")


def test_a_thought_opened_by_the_prompt_moves_out_when_its_close_tag_comes() -> None:
    # DeepSeek-R1's and QwQ's templates end the prompt with <think>: only </think> streams.
    assert split(["Let me", " weigh it.\n</th", "ink>\n\nYes", "."]) == ("Let me weigh it.", "Yes.")
    assert split(["weigh it</think>"]) == ("weigh it", "")
    # An answer that opens a tag of its own keeps its tags, however they are split.
    assert split(["Use <thi", "nk> and </think>."]) == ("", "Use <think> and </think>.")
    assert split(["Use <think>", " and ", "</think>", "."]) == ("", "Use <think> and </think>.")
    # Only the first close tag ends a thought; a later one is the answer's text.
    assert split(["a</think>b", "</think>c"]) == ("a", "b</think>c")
    # No close tag: an answer, with a "<" held back only while it may start a tag.
    assert split(["x <", "/y>", " <"]) == ("", "x </y> <")


def test_the_pieces_say_when_the_answer_so_far_was_a_thought() -> None:
    splitter = ThinkSplitter()
    pieces = [d for text in ("Hm", "m.</think>\n\nYes") for d in splitter.feed(text)]
    assert pieces == [AnswerDelta("Hm"), AnswerDelta("m."), AnswerWasThought(), AnswerDelta("Yes")]


def test_recorder_times_first_token_and_decode_speed() -> None:
    clock = TickingClock(step=0.5, now=0.0)
    recorder = ReplyRecorder(clock)  # t=0.5
    for text in ("<think>a", "</think>", "b", "c"):
        recorder.add(AnswerDelta(text))  # t=1.0, 1.5, 2.0, 2.5
    recorder.add(ChatUsage(12, 4))
    recorder.add(FinishReason("stop"))
    stats = recorder.stats()  # t=3.0
    assert (recorder.reasoning, recorder.answer) == ("a", "bc")
    assert stats.ttft_s == 0.5
    assert stats.tokens_per_s == pytest.approx(3 / 1.5)  # 3 tokens after the first, in 1.5 s
    assert stats.total_s == 2.5
    assert stats.line() == " \u00b7 ".join(
        ["TTFT 0.50 s", "2.0 tok/s", "12 prompt + 4 completion", "2.5 s"]
    )
    assert "stopped" in recorder.stats("stopped").line()


def test_the_request_carries_settings_history_and_asks_for_usage() -> None:
    conversation = Conversation(
        system="Be brief.",
        turns=[
            ChatTurn("user", "hi"),
            ChatTurn("assistant", "hello", reasoning="greet back"),
            ChatTurn("user", "again"),
        ],
        settings=SamplingSettings(0.2, None, 64, {"top_k": 20}),
    )
    body = conversation.request_body("m")
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},  # the thought is not sent back
        {"role": "user", "content": "again"},
    ]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert (body["temperature"], body["max_tokens"], body["top_k"]) == (0.2, 64, 20)
    assert "top_p" not in body  # left to the server's default
    assert "stream_options" not in conversation.request_body("m", stream=False)


def test_extra_parameters_read_as_pairs_or_json_and_refuse_vtuis_own() -> None:
    assert parse_extra("top_k=20 repetition_penalty=1.05 stop='a b'") == {
        "top_k": 20,
        "repetition_penalty": 1.05,
        "stop": "a b",
    }
    assert parse_extra('{"min_p": 0.1, "stop": ["\\n"]}') == {"min_p": 0.1, "stop": ["\n"]}
    for bad, why in [("top_k", "name=value"), ("stream=false", "set by vtui"),
                     ("temperature=1", "its own field"), ("[1]", "name=value")]:  # fmt: skip
        with pytest.raises(ValueError, match=why):
            parse_extra(bad)


def test_a_saved_chat_keeps_every_turn_in_json_and_markdown() -> None:
    clock = TickingClock(step=0.5, now=0.0)
    recorder = ReplyRecorder(clock)
    recorder.add(AnswerDelta("Four."))
    conversation = Conversation(
        system="Be brief.",
        turns=[
            ChatTurn("user", "2+2?"),
            ChatTurn("assistant", "Four.", reasoning="add", stats=recorder.stats()),
            ChatTurn("user", "and 3+3?"),
            ChatTurn("assistant", "Si", stopped=True),
        ],
    )
    saved = json.loads(conversation.to_json("m", "http://h:8000", "2026-11-24T10:00:00"))
    assert saved["model"] == "m" and saved["system"] == "Be brief."
    assert [t["content"] for t in saved["messages"]] == ["2+2?", "Four.", "and 3+3?", "Si"]
    assert saved["messages"][1]["reasoning"] == "add"
    assert saved["messages"][1]["stats"]["ttft_s"] == 0.5
    assert saved["messages"][3]["stopped"] is True
    markdown = conversation.to_markdown("m", "http://h:8000", "2026-11-24T10:00:00")
    assert "## System\n\nBe brief." in markdown
    assert "## You\n\n2+2?" in markdown
    assert "> **Reasoning**\n>\n> add\n\nFour." in markdown
    assert "*stopped*" in markdown


TARGET = ChatTarget("http://127.0.0.1:8000", "qwen", "running", max_model_len=4096)


def test_context_too_long_is_explained_against_max_model_len_in_both_vllm_wordings() -> None:
    old = (
        '{"object": "error", "message": "This model\'s maximum context length is 4096 tokens. '
        "However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). "
        'Please reduce the length of the messages or completion.", "code": 400}'
    )
    said = explain(ChatFault("http", old, 400), TARGET)
    assert "need 5,000 tokens: more than the 4,096" in said.title
    assert "--max-model-len" in said.title and "ctrl+n" in said.advice
    new = (
        '{"error": {"message": "This model\'s maximum context length is 4096 tokens. However, '
        'your request has 4200 input tokens. Please reduce the length of the input messages."}}'
    )
    said = explain(ChatFault("http", new, 400), TARGET, hints=CLI_HINTS)
    assert "The conversation is 4,200 tokens: more than the 4,096" in said.title
    assert "ctrl+" not in said.advice and "--max-tokens" in said.advice


def test_each_failure_says_what_to_do() -> None:
    assert "different API key" in explain(ChatFault("http", "{}", 401), TARGET).title
    missing = '{"error": {"message": "The model `x` does not exist."}}'
    served = ChatTarget("u", "x", served_models=("qwen", "llama"))
    assert "It serves: qwen, llama" in explain(ChatFault("http", missing, 404), served).advice
    starting = ChatTarget("u", "qwen", container_state="starting")
    assert (
        "not ready yet: its container is starting"
        in explain(ChatFault("unreachable", "refused"), starting).title
    )
    exited = ChatTarget("u", "qwen", container_state="exited", exit_code=1)
    assert "exited with code 1" in explain(ChatFault("unreachable", "refused"), exited).title
    dropped = explain(ChatFault("dropped", "peer closed"), TARGET, tokens_so_far=12)
    assert "after 12 tokens" in dropped.title and "partial reply is kept" in dropped.advice
    assert "No answer" in explain(ChatFault("timeout", "ReadTimeout"), TARGET).title
