"""The simulator's deterministic answers, shared by the HTTP simulator and the in-process demo."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PIECE = re.compile(r"\S+\s*")
# Model families that think before they answer (vLLM serves them with --reasoning-parser).
_REASONING = re.compile(
    r"qwen3(?!-coder)(?!.*instruct-2507)|deepseek-r1|qwq|gpt-oss|magistral", re.IGNORECASE
)
# A longer answer for --sim-reply-tokens: prose, a list and a code block, as models write.
_LONG_BODY = """

## Serving notes

- Pick a `--max-model-len` the KV cache can hold.
- Keep `--gpu-memory-utilization` below what other processes leave free.

```python
import httpx

reply = httpx.post(url, json={"model": model, "messages": messages}, timeout=60)
print(reply.json()["choices"][0]["message"]["content"])
```

Each request streams tokens as soon as the scheduler has them, so time to first token stays low \
while the batch grows.
"""


@dataclass(frozen=True)
class SimReply:
    chunks: tuple[str, ...]
    finish_reason: str
    prompt_tokens: int
    reasoning_chunks: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_chunks)

    @property
    def completion_tokens(self) -> int:
        return len(self.reasoning_chunks) + len(self.chunks)


def is_reasoning_model(model: str) -> bool:
    return bool(_REASONING.search(model))


def prompt_pieces(messages: list[dict[str, str]]) -> list[str]:
    """The prompt as the simulator's tokens: what a chat template adds around each message
    (four tokens), then one token per word."""
    pieces: list[str] = []
    for m in messages:
        pieces += ["<|im_start|>", str(m.get("role", "")), "\n"]
        pieces += _PIECE.findall(str(m.get("content", "")))
        pieces.append("<|im_end|>")
    return pieces


def count_prompt_tokens(messages: list[dict[str, str]]) -> int:
    return len(prompt_pieces(messages))


def reply_for(
    messages: list[dict[str, str]],
    model: str,
    max_tokens: int | None,
    *,
    reasoning: bool = False,
    length: int | None = None,
) -> SimReply:
    """The reply to the last user message; with `reasoning`, a thought comes first; with
    `length`, the answer runs on to that many pieces."""
    question = next(
        (str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), ""
    ).strip()
    if len(question) > 80:
        question = question[:77] + "..."
    text = (
        f"This is vtui's vLLM simulator answering as {model}. "
        f"You asked: \u201c{question}\u201d. "
        "A real server would generate an answer here; this one streams its reply word by word "
        "so the chat pane, the metrics and the load test see tokens arrive as they would."
    )
    pieces = _PIECE.findall(text)
    if length is not None:
        body = _pieces_keeping_lines(_LONG_BODY)
        while len(pieces) < length:
            pieces += body[: length - len(pieces)]
    thought: list[str] = []
    if reasoning:
        thought = _PIECE.findall(
            f"The user asks \u201c{question}\u201d. I am a simulator, so I will say so, "
            "repeat the question and explain what a real server would do."
        )
    budget = len(thought) + len(pieces) if max_tokens is None else max(0, max_tokens)
    finish = "stop" if budget >= len(thought) + len(pieces) else "length"
    thought_kept = thought[:budget]
    answer_kept = pieces[: max(0, budget - len(thought_kept))]
    return SimReply(tuple(answer_kept), finish, count_prompt_tokens(messages), tuple(thought_kept))


def _pieces_keeping_lines(text: str) -> list[str]:
    # Leading newlines belong to the piece before, as a tokenizer's would; the pattern keeps
    # them at the end of each piece.
    head = text[: len(text) - len(text.lstrip())]
    found = _PIECE.findall(text.lstrip())
    return [head + found[0], *found[1:]] if found else [head]


def stream_deltas(
    reply: SimReply, reasoning_parser: bool, think_in_template: bool = False
) -> list[dict[str, str]]:
    """The reply's chunk deltas as vLLM streams them: the thought in delta.reasoning with a
    reasoning parser, else between <think> tags in the content (tokens of their own); a
    template that opens <think> in the prompt leaves only the closing tag to stream."""
    if not reply.reasoning_chunks:
        return [{"content": piece} for piece in reply.chunks]
    if reasoning_parser:
        thought = [{"reasoning": piece} for piece in reply.reasoning_chunks]
        return thought + [{"content": piece} for piece in reply.chunks]
    opening = [] if think_in_template else ["<think>\n"]
    pieces = [*opening, *reply.reasoning_chunks, "\n</think>\n\n", *reply.chunks]
    return [{"content": piece} for piece in pieces]


def context_error(prompt_tokens: int, max_tokens: object, limit: int) -> str | None:
    """vLLM's 400 message when a request cannot fit --max-model-len, in its words."""
    if isinstance(max_tokens, int) and prompt_tokens + max_tokens > limit:
        return (
            f"This model's maximum context length is {limit} tokens. However, you requested "
            f"{prompt_tokens + max_tokens} tokens ({prompt_tokens} in the messages, "
            f"{max_tokens} in the completion). Please reduce the length of the messages or "
            "completion."
        )
    if prompt_tokens >= limit:
        return (
            f"This model's maximum context length is {limit} tokens. However, your request has "
            f"{prompt_tokens} input tokens. Please reduce the length of the input messages."
        )
    return None
