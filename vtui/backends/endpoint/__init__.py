"""The serving endpoint interface: vLLM's OpenAI-compatible HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from vtui.core.records import ChatMessage, ChatUsage


class EndpointError(Exception):
    """The endpoint answered with an error or did not answer; the message says which."""


class ChatEndpoint(Protocol):
    base_url: str

    def health(self) -> bool:
        """True when /health answers 200."""
        ...

    def served_models(self) -> list[str]:
        """The model names /v1/models lists. Raises EndpointError (401 included)."""
        ...

    def stream_chat(
        self, model: str, messages: list[ChatMessage], max_tokens: int | None = None
    ) -> Iterator[str | ChatUsage]:
        """Text pieces as they stream in, then the usage once the server sends it."""
        ...
