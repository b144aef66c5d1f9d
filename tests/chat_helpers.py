"""Asking an endpoint for a reply the way the Chat screen and `vtui chat` do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from vtui.backends.endpoint import ChatEndpoint, ServedModel
from vtui.core.chat import ChatTurn, Conversation, SamplingSettings
from vtui.core.chat_stream import ChatEvent

MODEL = "Qwen/Qwen2.5-7B-Instruct"


def ask(
    text: str,
    *,
    model: str = MODEL,
    max_tokens: int | None = None,
    stream: bool = True,
    system: str = "",
) -> dict[str, Any]:
    conversation = Conversation(
        system=system,
        turns=[ChatTurn("user", text)],
        settings=SamplingSettings(max_tokens=max_tokens),
    )
    return conversation.request_body(model, stream=stream)


def chat_events(endpoint: ChatEndpoint, body: dict[str, Any]) -> list[ChatEvent]:
    async def collect() -> list[ChatEvent]:
        return [event async for event in endpoint.chat(body)]

    return asyncio.run(collect())


class HeldEndpoint:
    """An endpoint that passes on `release` events of the real one, then holds the rest, as a
    server mid-reply does: the Chat screen can be looked at while a reply is streaming."""

    def __init__(self, inner: ChatEndpoint, release: int) -> None:
        self.inner = inner
        self.base_url = inner.base_url
        self.release = release
        self.passed = 0

    def health(self) -> bool:
        return self.inner.health()

    def served_models(self) -> list[str]:
        return self.inner.served_models()

    def model_cards(self) -> list[ServedModel]:
        return self.inner.model_cards()

    async def chat(self, body: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        async for event in self.inner.chat(body):
            if self.passed == self.release:
                await asyncio.Event().wait()  # until the reader cancels
            self.passed += 1
            yield event
