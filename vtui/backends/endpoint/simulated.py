"""The demo's endpoint: answers in-process, with the same replies as the HTTP simulator."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from vtui.backends.endpoint import EndpointError, ServedModel
from vtui.core.chat_errors import ChatFault
from vtui.core.chat_stream import AnswerDelta, ChatEvent, FinishReason, ReasoningDelta
from vtui.core.records import ChatUsage, Deployment
from vtui.sim.demo_world import DemoWorld
from vtui.sim.replies import (
    context_error,
    is_reasoning_model,
    prompt_pieces,
    reply_for,
    stream_deltas,
)


class SimulatedEndpoint:
    def __init__(self, world: DemoWorld, deployment: Deployment, token_delay: float) -> None:
        self.world = world
        self.deployment = deployment
        self.base_url = deployment.base_url or "http://127.0.0.1:8000"
        self.token_delay = token_delay

    def health(self) -> bool:
        return self.world.serving(self.deployment.model, self.deployment.container_id)

    def _refused(self) -> EndpointError:
        return EndpointError(
            ChatFault("unreachable", f"connection refused at {self.base_url}: the server is not up")
        )

    def served_models(self) -> list[str]:
        return [card.id for card in self.model_cards()]

    def model_cards(self) -> list[ServedModel]:
        if not self.health():
            raise self._refused()
        config = self.world.server_config(self.deployment.container_id)
        return [ServedModel(self.deployment.model, config.context_length)]

    async def chat(self, body: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        if not self.health():
            raise self._refused()
        model = str(body.get("model"))
        if model != self.deployment.model:
            detail = f'{{"error": {{"message": "The model `{model}` does not exist."}}}}'
            raise EndpointError(ChatFault("http", detail, 404))
        config = self.world.server_config(self.deployment.container_id)
        max_tokens = body.get("max_tokens")
        reply = reply_for(body["messages"], model, max_tokens, reasoning=is_reasoning_model(model))
        too_long = context_error(reply.prompt_tokens, max_tokens, config.context_length)
        if too_long:
            raise EndpointError(ChatFault("http", f'{{"error": {{"message": "{too_long}"}}}}', 400))
        parser = "--reasoning-parser" in self.deployment.command
        metrics = self.world.metrics(self.deployment.container_id)
        started = last = time.monotonic()
        metrics.request_started(reply.prompt_tokens, prompt_pieces(body["messages"]))
        sent, finish = 0, "abort"  # until the reply ends: the reader may go away mid-reply
        try:
            for i, delta in enumerate(stream_deltas(reply, parser)):
                if self.token_delay:
                    await asyncio.sleep(self.token_delay)
                now = time.monotonic()
                metrics.token_generated(
                    now - started if i == 0 else None, now - last if i else None
                )
                last, sent = now, sent + 1
                if "reasoning" in delta:
                    yield ReasoningDelta(delta["reasoning"])
                else:
                    yield AnswerDelta(delta["content"])
            finish = reply.finish_reason
            yield FinishReason(reply.finish_reason)
            yield ChatUsage(reply.prompt_tokens, reply.completion_tokens)
        finally:
            metrics.request_finished(finish, reply.prompt_tokens + sent, time.monotonic() - started)

    @contextlib.asynccontextmanager
    async def session(self, connections: int) -> AsyncIterator[None]:
        yield  # nothing to connect: the demo answers in-process

    def metrics_text(self) -> str | None:
        """/metrics of the demo's server; each reading plays out SCRAPE_SECONDS more of its
        simulated clients, so the same readings always show the same figures."""
        if not self.health():
            raise self._refused()
        from vtui.core.serving_stats import SCRAPE_SECONDS

        return self.world.metrics_text(self.deployment.container_id, SCRAPE_SECONDS)
