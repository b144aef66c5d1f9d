"""What one streamed chat completion says, chunk by chunk: answer text, reasoning, usage, the end.

vLLM streams `data: {chat.completion.chunk}` events and ends with `data: [DONE]`. Reasoning
arrives in `delta.reasoning` (vLLM 0.10 and later) or `delta.reasoning_content` (earlier
releases, DeepSeek's API); a model served without a reasoning parser writes it into the
content between `<think>` and `</think>` instead. All three end up as ReasoningDelta here.

Some chat templates (DeepSeek-R1's, QwQ's) open `<think>` in the prompt, so the content
starts inside the thought and only its `</think>` streams. Until that tag comes the text
cannot be told from an answer; when it comes, AnswerWasThought says the answer so far was
the thought.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vtui.core.numbers import whole_number
from vtui.core.records import ChatUsage

DONE = "[DONE]"
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


@dataclass(frozen=True)
class AnswerDelta:
    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class AnswerWasThought:
    """A `</think>` closed a thought the content never opened: the answer so far was the
    thought, and moves to the reasoning. No text of its own (`text` is "")."""

    text: str = ""


@dataclass(frozen=True)
class FinishReason:
    reason: str  # "stop", "length", "tool_calls", "abort", ...


ChatEvent = AnswerDelta | ReasoningDelta | ChatUsage | FinishReason
TextDelta = AnswerDelta | ReasoningDelta | AnswerWasThought


class MalformedChunk(ValueError):
    """A `data:` event that is not a chat.completion.chunk."""


class StreamedError(Exception):
    """The server put an error into the stream instead of the next chunk."""


# What a server's broken answer can raise out of json and the field reads below: every one of
# them becomes a MalformedChunk, one message, never a crash of the screen reading it.
_BAD_INPUT = (ValueError, TypeError, AttributeError, KeyError, RecursionError, OverflowError)


def events_of(data: str) -> list[ChatEvent]:
    """The events in one SSE `data:` payload (not "[DONE]"). Raises MalformedChunk for
    anything that is not a chat.completion.chunk of the right types, StreamedError for an
    error the server streamed."""
    try:
        return _events_of(data)
    except (MalformedChunk, StreamedError):
        raise
    except _BAD_INPUT as exc:
        raise MalformedChunk(f"{_clip(data)} ({type(exc).__name__})") from None


def _events_of(data: str) -> list[ChatEvent]:
    try:
        chunk = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise MalformedChunk(_clip(data)) from exc
    if not isinstance(chunk, dict):
        raise MalformedChunk(_clip(data))
    if "error" in chunk:
        raise StreamedError(_error_message(chunk["error"]))
    choices = chunk.get("choices") or []
    if not isinstance(choices, list):
        raise MalformedChunk(_clip(data))
    events: list[ChatEvent] = []
    for choice in choices:
        if not isinstance(choice, dict) or not isinstance(choice.get("delta") or {}, dict):
            raise MalformedChunk(_clip(data))
        if choice.get("index", 0) != 0:
            continue  # vtui asks for one choice (n=1)
        events += _choice_events(choice.get("delta") or {}, choice.get("finish_reason"))
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        events.append(_usage(usage))
    return events


def events_of_completion(body: object) -> list[ChatEvent]:
    """The same events from a whole (non-streamed) chat.completion; MalformedChunk when it
    is not one."""
    try:
        if not isinstance(body, dict):
            raise MalformedChunk("a chat.completion is a JSON object")
        events: list[ChatEvent] = []
        choices = body.get("choices") or []
        if not isinstance(choices, list):
            raise MalformedChunk("its choices are not a list")
        for choice in choices:
            if not isinstance(choice, dict) or not isinstance(choice.get("message") or {}, dict):
                raise MalformedChunk("a choice is not an object with a message")
            events += _choice_events(choice.get("message") or {}, choice.get("finish_reason"))
            break
        usage = body.get("usage")
        if isinstance(usage, dict):
            events.append(_usage(usage))
        return events
    except MalformedChunk:
        raise
    except _BAD_INPUT as exc:
        raise MalformedChunk(f"chat.completion ({type(exc).__name__})") from None


def _text_field(text: dict[str, Any], name: str) -> str:
    value = text.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedChunk(f"{name} is {type(value).__name__}, not text")
    return value


def _choice_events(text: dict[str, Any], finish_reason: object) -> list[ChatEvent]:
    """A choice's reasoning, answer and finish, from a chunk's delta or a completion's message."""
    events: list[ChatEvent] = []
    # Some vLLM releases send both names with the same text: take one.
    reasoning = _text_field(text, "reasoning") or _text_field(text, "reasoning_content")
    if reasoning:
        events.append(ReasoningDelta(reasoning))
    if content := _text_field(text, "content"):
        events.append(AnswerDelta(content))
    if finish_reason:
        if not isinstance(finish_reason, str):
            raise MalformedChunk("finish_reason is not text")
        events.append(FinishReason(finish_reason[:40]))
    return events


MAX_TOKENS_COUNTED = 10**12  # beyond any real count: a larger one is a broken answer


def _count(usage: dict[str, Any], name: str) -> int:
    value = usage.get(name)
    if value is None:
        return 0
    if not whole_number(value) or not 0 <= value <= MAX_TOKENS_COUNTED:
        raise MalformedChunk(f"usage.{name} is {_clip(repr(value), 40)}, not a token count")
    return value


def _usage(usage: dict[str, Any]) -> ChatUsage:
    return ChatUsage(_count(usage, "prompt_tokens"), _count(usage, "completion_tokens"))


def _error_message(error: object) -> str:
    if isinstance(error, dict):
        return _clip(str(error.get("message") or error), 500)
    return _clip(str(error), 500)


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


class ThinkSplitter:
    """Moves `<think>...</think>` at the start of the content into reasoning, with tags that may
    be split over several chunks. A `<think>` later in an answer is the answer's own text.

    An answer that did not open with `<think>` may still be a thought opened by the prompt:
    its first `</think>`, with no `<think>` before it, ends that thought."""

    def __init__(self) -> None:
        # "start": only whitespace so far; "thinking"; "unsure": an answer a `</think>` may
        # yet turn into a thought; "answer".
        self._state = "start"
        self._held = ""
        self._unsure_text = ""  # the answer given while unsure, to spot a `<think>` in it

    def feed(self, text: str) -> list[TextDelta]:
        if self._state == "answer":
            return [AnswerDelta(text)] if text else []
        self._held += text
        if self._state == "start":
            begun = self._held.lstrip()
            if begun.startswith(THINK_OPEN):
                self._state = "thinking"
                # Templates put the thought on its own lines: the tags' line ends are not text.
                self._held = begun[len(THINK_OPEN) :].lstrip("\n")
            elif THINK_OPEN.startswith(begun):
                return []  # whitespace, or the tag arriving in pieces
            else:
                self._state = "unsure"
        if self._state == "unsure":
            return self._feed_unsure()
        return self._feed_thinking()

    def _feed_thinking(self) -> list[TextDelta]:
        out: list[TextDelta] = []
        end = self._held.find(THINK_CLOSE)
        if end >= 0:
            thought = self._held[:end].rstrip("\n")
            if thought:
                out.append(ReasoningDelta(thought))
            rest = self._held[end + len(THINK_CLOSE) :].lstrip("\n")
            self._state, self._held = "answer", ""
            if rest:
                out.append(AnswerDelta(rest))
            return out
        ready = self._release_all_but_a_partial_tag()
        return [ReasoningDelta(ready)] if ready else []

    def _feed_unsure(self) -> list[TextDelta]:
        # What came just before counts too: a `<think>` can be split over two chunks.
        seen = self._unsure_text + self._held
        end = self._held.find(THINK_CLOSE)
        opened = seen.find(THINK_OPEN)
        if opened >= 0 and (end < 0 or opened < len(self._unsure_text) + end):
            # The answer opened a tag of its own: its tags are its text.
            self._state, held, self._held = "answer", self._held, ""
            return [AnswerDelta(held)]
        if end >= 0:
            out: list[TextDelta] = []
            if before := self._held[:end]:
                out.append(AnswerDelta(before))
            out.append(AnswerWasThought())
            rest = self._held[end + len(THINK_CLOSE) :].lstrip("\n")
            self._state, self._held, self._unsure_text = "answer", "", ""
            if rest:
                out.append(AnswerDelta(rest))
            return out
        ready = self._release_all_but_a_partial_tag()
        self._unsure_text = (self._unsure_text + ready)[-len(THINK_OPEN) :]
        return [AnswerDelta(ready)] if ready else []

    def _release_all_but_a_partial_tag(self) -> str:
        keep = _partial_tag_at_end(self._held, THINK_CLOSE)
        ready = self._held[: len(self._held) - keep]
        self._held = self._held[len(ready) :]
        return ready

    def flush(self) -> list[TextDelta]:
        held, self._held = self._held, ""
        if not held:
            return []
        return [ReasoningDelta(held) if self._state == "thinking" else AnswerDelta(held)]


def thought_moved(answer: str) -> str:
    """The answer so far, as the thought it turned out to be: the line end before its
    `</think>` is the tag's, not the thought's."""
    return answer.rstrip("\n")


def _partial_tag_at_end(text: str, tag: str) -> int:
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


@dataclass(frozen=True)
class ReplyStats:
    """How one reply went, as the pane shows it under the reply."""

    ttft_s: float | None  # request sent to first token (reasoning or answer)
    tokens_per_s: float | None  # decode speed: tokens after the first over the time they took
    prompt_tokens: int | None
    completion_tokens: int | None
    total_s: float
    finish_reason: str | None

    def line(self) -> str:
        parts = [
            f"TTFT {self.ttft_s:.2f} s" if self.ttft_s is not None else "TTFT \u2013",
            f"{self.tokens_per_s:,.1f} tok/s" if self.tokens_per_s is not None else "\u2013 tok/s",
        ]
        if self.prompt_tokens is not None and self.completion_tokens is not None:
            parts.append(f"{self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion")
        parts.append(f"{self.total_s:.1f} s")
        if self.finish_reason and self.finish_reason != "stop":
            parts.append(FINISH_WORDS.get(self.finish_reason, self.finish_reason))
        return " \u00b7 ".join(parts)


FINISH_WORDS = {
    "length": "cut at max tokens",
    "abort": "stopped",
    "stopped": "stopped",
    "tool_calls": "tool call",
}


class ReplyRecorder:
    """Follows one reply's events: splits out reasoning, keeps the text, times the tokens."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.started = clock()
        self.answer = ""
        self.reasoning = ""
        self.usage: ChatUsage | None = None
        self.finish_reason: str | None = None
        self.done = False  # "[DONE]" arrived
        self._splitter = ThinkSplitter()
        self._first_at: float | None = None
        self._last_at: float | None = None
        self._text_events = 0

    def add(self, event: ChatEvent) -> list[TextDelta]:
        """The text to show for this event (reasoning and answer apart)."""
        if isinstance(event, ChatUsage):
            self.usage = event
            return []
        if isinstance(event, FinishReason):
            self.finish_reason = event.reason
            return []
        now = self._clock()
        if self._first_at is None:
            self._first_at = now
        self._last_at = now
        self._text_events += 1
        pieces: list[TextDelta] = [event]
        if isinstance(event, AnswerDelta):
            pieces = self._splitter.feed(event.text)
        return self._keep(pieces)

    def end(self) -> list[TextDelta]:
        """The stream is over (finished, stopped or broken): text the splitter still held."""
        return self._keep(self._splitter.flush())

    def _keep(self, pieces: list[TextDelta]) -> list[TextDelta]:
        for piece in pieces:
            if isinstance(piece, ReasoningDelta):
                self.reasoning += piece.text
            elif isinstance(piece, AnswerWasThought):
                self.reasoning += thought_moved(self.answer)
                self.answer = ""
            else:
                self.answer += piece.text
        return pieces

    @property
    def tokens_so_far(self) -> int:
        """The server's own count when it sent usage; else one token a text event, as
        vLLM streams them."""
        return self.usage.completion_tokens if self.usage else self._text_events

    def stats(self, finish_reason: str | None = None) -> ReplyStats:
        completion = self.tokens_so_far
        rate: float | None = None
        if self._first_at is not None and self._last_at is not None and completion > 1:
            span = self._last_at - self._first_at
            rate = (completion - 1) / span if span > 0 else None
        return ReplyStats(
            ttft_s=None if self._first_at is None else self._first_at - self.started,
            tokens_per_s=rate,
            prompt_tokens=self.usage.prompt_tokens if self.usage else None,
            completion_tokens=self.usage.completion_tokens if self.usage else None,
            total_s=self._clock() - self.started,
            finish_reason=finish_reason or self.finish_reason,
        )
