"""The simulator's deterministic answers, shared by the HTTP simulator and the in-process demo."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PIECE = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class SimReply:
    chunks: tuple[str, ...]
    finish_reason: str
    prompt_tokens: int

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def completion_tokens(self) -> int:
        return len(self.chunks)


def count_prompt_tokens(messages: list[dict[str, str]]) -> int:
    # Roughly what a chat template adds per message, plus one token per word.
    return sum(4 + len(_PIECE.findall(str(m.get("content", "")))) for m in messages)


def reply_for(messages: list[dict[str, str]], model: str, max_tokens: int | None) -> SimReply:
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
    pieces = tuple(_PIECE.findall(text))
    finish = "stop"
    if max_tokens is not None and max_tokens < len(pieces):
        pieces, finish = pieces[: max(0, max_tokens)], "length"
    return SimReply(pieces, finish, count_prompt_tokens(messages))
