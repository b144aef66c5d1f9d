"""Why a chat request failed, in words a user can act on.

The endpoint backend says what happened (ChatFault); this module, knowing what vtui knows of
the target (its container's state, its --max-model-len, the names it serves), says why and
what to do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from vtui.core.terminal_text import visible

FaultKind = Literal["unreachable", "timeout", "http", "dropped", "malformed", "server"]


# An error body is the server's to write: what of it is kept, and shown, is bounded.
MAX_DETAIL = 2000


@dataclass(frozen=True)
class ChatFault:
    kind: FaultKind
    detail: str
    status: int | None = None

    def __post_init__(self) -> None:
        # The detail quotes the server: its control characters are shown, never obeyed.
        detail = self.detail if isinstance(self.detail, str) else repr(self.detail)
        object.__setattr__(self, "detail", visible(detail[:MAX_DETAIL], newlines=True))


@dataclass(frozen=True)
class ChatTarget:
    """What vtui knows of the endpoint it talks to."""

    url: str
    model: str
    container_state: str | None = None  # None: not one of vtui's containers (--endpoint)
    exit_code: int | None = None
    max_model_len: int | None = None
    served_models: tuple[str, ...] = ()
    api_key_source: str = "the deployment's API key"


@dataclass(frozen=True)
class Explained:
    title: str
    advice: str

    def text(self) -> str:
        return f"{self.title}\n{self.advice}"


@dataclass(frozen=True)
class Hints:
    """How the advice names what to do: keys in the Chat screen, flags on the command line."""

    retry: str
    new_chat: str
    max_tokens: str
    pick_model: str


SCREEN_HINTS = Hints(
    "Retry with ctrl+r.", "Start a new chat (ctrl+n)", "lower max tokens (ctrl+o)", "ctrl+o"
)
CLI_HINTS = Hints("Run it again.", "Shorten the prompt", "lower --max-tokens", "--model")


def explain(
    fault: ChatFault, target: ChatTarget, tokens_so_far: int = 0, hints: Hints = SCREEN_HINTS
) -> Explained:
    if fault.kind == "unreachable":
        return _unreachable(fault, target, hints)
    if fault.kind == "timeout":
        return Explained(
            f"No answer from {target.url} in time ({fault.detail}).",
            "The server may be busy with long requests or stuck; its log on the Server screen "
            f"tells which. {hints.retry}",
        )
    if fault.kind == "dropped":
        got = f" after {tokens_so_far:,} tokens" if tokens_so_far else ""
        return Explained(
            f"The connection dropped in the middle of the reply{got}.",
            "The server closed it without finishing: it may have crashed or restarted. The "
            f"partial reply is kept; the Server screen shows its log. {hints.retry}",
        )
    if fault.kind == "malformed":
        return Explained(
            "The server sent something vtui cannot read.",
            f"vtui stopped reading there: {fault.detail}. Is {target.url} an OpenAI-compatible "
            "server?",
        )
    if fault.kind == "server":
        return Explained(
            "The server stopped the reply with an error.",
            f"{fault.detail}. {hints.retry}",
        )
    return _http(fault, target, hints)


def _unreachable(fault: ChatFault, target: ChatTarget, hints: Hints) -> Explained:
    state = target.container_state
    if state in ("starting", "created", "unhealthy"):
        return Explained(
            f"The server is not ready yet: its container is {state}.",
            "vLLM answers once it has loaded the weights, profiled memory and captured CUDA "
            f"graphs; the Server screen shows how far it is. {hints.retry}",
        )
    if state in ("exited", "dead"):
        code = f" with code {target.exit_code}" if target.exit_code is not None else ""
        return Explained(
            f"The server is not running: its container {state}{code}.",
            "The Server screen shows its log and why it stopped; start it again from there.",
        )
    return Explained(
        f"Nothing answers at {target.url}.",
        f"{fault.detail}. Is the server running, and is the address right? {hints.retry}",
    )


def _http(fault: ChatFault, target: ChatTarget, hints: Hints) -> Explained:
    message = error_message(fault.detail)
    status = fault.status
    if status == 401:
        return Explained(
            "401 Unauthorized: the server wants a different API key.",
            f"vtui sent {target.api_key_source}. Check the key the server was started with "
            "(--api-key or VLLM_API_KEY).",
        )
    if status == 400 and "context length" in message.lower():
        return _context_too_long(message, target, hints)
    if status == 404 and "model" in message.lower():
        served = ", ".join(target.served_models) or "none it would list"
        return Explained(
            f"The server has no model called {target.model!r}.",
            f"It serves: {served}. Pick one with {hints.pick_model}.",
        )
    if status is not None and status >= 500:
        return Explained(
            f"The server failed the request (HTTP {status}).", f"{message}. {hints.retry}"
        )
    return Explained(f"The server refused the request (HTTP {status}).", message)


_LIMIT = re.compile(r"maximum context length is (\d+)")
_INPUT = re.compile(r"(\d+) (?:input tokens|tokens in the messages|in the messages)")
_ASKED = re.compile(r"requested (\d+) tokens")
# vLLM 0.26: "you requested 8 output tokens and your prompt contains at least 4089 input
# tokens, for a total of at least 4097 tokens".
_OUTPUT = re.compile(r"requested (\d+) output tokens")
_TOTAL = re.compile(r"for a total of (?:at least )?(\d+) tokens")


def _context_too_long(message: str, target: ChatTarget, hints: Hints) -> Explained:
    limit = _number(_LIMIT, message) or target.max_model_len
    prompt = _number(_INPUT, message)
    output = _number(_OUTPUT, message)
    total = _number(_TOTAL, message) or _number(_ASKED, message)
    if total is None and prompt is not None and output is not None:
        total = prompt + output
    if limit is not None and prompt is not None and prompt >= limit:
        title = (
            f"The conversation is {prompt:,} tokens: more than the {limit:,} the server "
            "holds (--max-model-len)."
        )
    elif limit is not None and (total or prompt or 0) > limit:
        need = total or prompt or 0
        parts = (
            f" (the conversation {prompt:,}, the reply up to {output:,})"
            if prompt is not None and output is not None
            else ""
        )
        title = (
            f"The conversation and the reply need {need:,} tokens{parts}: more than the "
            f"{limit:,} the server holds (--max-model-len)."
        )
    elif limit is not None:
        title = f"The request does not fit the server's context of {limit:,} tokens."
    else:
        title = "The request does not fit the server's context."
    return Explained(
        title,
        f"{hints.new_chat}, {hints.max_tokens}, or relaunch with a larger --max-model-len "
        "if the Launch screen says the KV cache can hold it.",
    )


def _number(pattern: re.Pattern[str], text: str) -> int | None:
    found = pattern.search(text)
    return int(found.group(1)) if found else None


def error_message(body: str) -> str:
    """The message in an OpenAI-style error body, in both of vLLM's shapes
    ({"error": {"message": ...}} and {"object": "error", "message": ...}), else the text."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:300] or "no details"
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if data.get("detail"):
            return str(data["detail"])
    return body.strip()[:300]
