"""A conversation with a served model: its turns, its sampling settings, the request body that
asks for the next reply, and the JSON and Markdown it is saved as."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field
from typing import Any

from vtui.core.chat_stream import ReplyStats

# Sampling fields the settings dialog has its own inputs for; "extra" must not repeat them.
OWN_FIELDS = ("temperature", "top_p", "max_tokens")
# Fields vtui sets itself: a user's "extra" may not override them.
RESERVED_FIELDS = ("model", "messages", "stream", "stream_options")
# (lowest, highest, whether the lowest itself is allowed): vLLM refuses top_p 0 and the
# OpenAI API, which clients are written against, caps temperature at 2.
SAMPLING_RANGES = {"temperature": (0.0, 2.0, True), "top_p": (0.0, 1.0, False)}


def sampling_value(name: str, text: str) -> float | None:
    """A sampling field as typed: None when empty, else the number, or ValueError saying
    what is allowed."""
    low, high, low_allowed = SAMPLING_RANGES[name]
    allowed = f"a number {'from' if low_allowed else 'above'} {low:g} to {high:g}"
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{allowed}, not {text.strip()!r}") from None
    if not (low <= value <= high) or (value == low and not low_allowed):
        raise ValueError(f"{allowed}, not {text.strip()}")
    return value


@dataclass
class SamplingSettings:
    """None leaves a field out of the request, so the server's default (the model's
    generation_config.json, in vLLM) applies."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def body_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = dict(self.extra)
        for name in OWN_FIELDS:
            value = getattr(self, name)
            if value is not None:
                fields[name] = value
        return fields

    def summary(self) -> str:
        shown = {k: v for k, v in self.body_fields().items()}
        if not shown:
            return "server defaults"
        return ", ".join(f"{k}={_plain(v)}" for k, v in shown.items())


def parse_extra(text: str) -> dict[str, Any]:
    """Extra sampling parameters as `top_k=20 repetition_penalty=1.05` or a JSON object.
    Values are read as JSON where they parse (numbers, true, lists), else kept as text."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON object: it breaks at character {exc.pos + 1}") from None
        except ValueError as exc:  # nested too deep and the like
            raise ValueError("not a JSON object vtui can read") from exc
        if not isinstance(value, dict):
            raise ValueError("give a JSON object, {...}")
        extra = value
    else:
        extra = {}
        for token in shlex.split(text):
            name, eq, raw = token.partition("=")
            if not eq or not name:
                raise ValueError(f"{token!r}: write name=value")
            try:
                extra[name.strip()] = json.loads(raw)
            except ValueError:
                extra[name.strip()] = raw
    for name in extra:
        if name in RESERVED_FIELDS:
            raise ValueError(f"{name} is set by vtui itself")
        if name in OWN_FIELDS:
            raise ValueError(f"{name} has its own field above")
    return extra


def format_extra(extra: dict[str, Any]) -> str:
    return " ".join(f"{k}={_plain(v)}" for k, v in extra.items())


def _plain(value: Any) -> str:
    return value if isinstance(value, str) and " " not in value else json.dumps(value)


@dataclass
class ChatTurn:
    role: str  # "user" or "assistant"
    content: str
    reasoning: str = ""
    stats: ReplyStats | None = None
    stopped: bool = False  # the user stopped it: the text is what came before


@dataclass
class Conversation:
    system: str = ""
    turns: list[ChatTurn] = field(default_factory=list)
    settings: SamplingSettings = field(default_factory=SamplingSettings)

    def messages(self) -> list[dict[str, str]]:
        # Reasoning is not sent back: vLLM's reasoning docs and the model cards ask for the
        # answer alone in the history.
        out = [{"role": "system", "content": self.system}] if self.system.strip() else []
        out += [{"role": t.role, "content": t.content} for t in self.turns]
        return out

    def request_body(self, model: str, *, stream: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = self.settings.body_fields()
        body |= {"model": model, "messages": self.messages(), "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    @property
    def last_user_text(self) -> str | None:
        return next((t.content for t in reversed(self.turns) if t.role == "user"), None)

    def to_json(self, model: str, endpoint: str, saved_at: str) -> str:
        record = {
            "model": model,
            "endpoint": endpoint,
            "saved_at": saved_at,
            "system": self.system,
            "settings": self.settings.body_fields(),
            "messages": [_turn_record(t) for t in self.turns],
        }
        return json.dumps(record, indent=2, ensure_ascii=False) + "\n"

    def to_markdown(self, model: str, endpoint: str, saved_at: str) -> str:
        lines = [f"# Chat with {model}", "", f"{endpoint} \u00b7 saved {saved_at}", ""]
        lines += [f"Sampling: {self.settings.summary()}", ""]
        if self.system.strip():
            lines += ["## System", "", self.system, ""]
        for turn in self.turns:
            lines += [f"## {'You' if turn.role == 'user' else model}", ""]
            if turn.reasoning:
                thought = turn.reasoning.split("\n")
                quoted = "\n".join(f"> {line}" if line else ">" for line in thought)
                lines += ["> **Reasoning**", ">", quoted, ""]
            lines += [turn.content, ""]
            if turn.stats is not None:
                lines += [f"*{turn.stats.line()}*", ""]
            elif turn.stopped:
                lines += ["*stopped*", ""]
        return "\n".join(lines)


def _turn_record(turn: ChatTurn) -> dict[str, Any]:
    record: dict[str, Any] = {"role": turn.role, "content": turn.content}
    if turn.reasoning:
        record["reasoning"] = turn.reasoning
    if turn.stopped:
        record["stopped"] = True
    if turn.stats is not None:
        record["stats"] = {k: v for k, v in asdict(turn.stats).items() if v is not None}
    return record
