"""The serving endpoint interface: vLLM's OpenAI-compatible HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from vtui.core.chat_errors import ChatFault
from vtui.core.chat_stream import ChatEvent


class EndpointError(Exception):
    """The endpoint answered with an error or did not answer; `fault` says which."""

    def __init__(self, fault: ChatFault) -> None:
        status = f"HTTP {fault.status}: " if fault.status else ""
        super().__init__(f"{status}{fault.detail}")
        self.fault = fault


@dataclass(frozen=True)
class ServedModel:
    """One entry of /v1/models."""

    id: str
    max_model_len: int | None = None


@dataclass(frozen=True)
class GivenEndpoint:
    """An endpoint named on the command line (--endpoint) instead of a vtui deployment."""

    url: str
    api_key: str | None = field(default=None, repr=False)  # never printed
    key_source: str = "no API key"  # "$VAR" when --api-key-env named one
    model: str | None = None


class ChatEndpoint(Protocol):
    base_url: str

    def health(self) -> bool:
        """True when /health answers 200."""
        ...

    def served_models(self) -> list[str]:
        """The model names /v1/models lists. Raises EndpointError (401 included)."""
        ...

    def model_cards(self) -> list[ServedModel]:
        """/v1/models with each model's context length. Raises EndpointError."""
        ...

    def metrics_text(self) -> str | None:
        """GET /metrics: Prometheus text, or None when the server has no /metrics (404).
        Raises EndpointError when it cannot be read."""
        ...

    def session(self, connections: int) -> AbstractAsyncContextManager[None]:
        """Within it, chat() shares up to `connections` open connections instead of opening
        one per reply: a load test measures the server, not the client's set-up."""
        ...

    def chat(self, body: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        """POST /v1/chat/completions: the reply's events as they arrive (all at once when
        body["stream"] is false). Raises EndpointError. Closing the iterator (cancelling the
        task that reads it) closes the connection, and vLLM aborts the request."""
        ...
