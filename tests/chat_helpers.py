"""Asking an endpoint for a reply the way the Chat screen and `vtui chat` do."""

from __future__ import annotations

import asyncio
from typing import Any

from vtui.backends.endpoint import ChatEndpoint
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
