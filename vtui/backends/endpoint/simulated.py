"""The demo's endpoint: answers in-process, with the same replies as the HTTP simulator."""

from __future__ import annotations

import time
from collections.abc import Iterator

from vtui.backends.demo_world import DemoWorld
from vtui.backends.endpoint import EndpointError
from vtui.core.records import ChatMessage, ChatUsage, Deployment
from vtui.sim.replies import reply_for


class SimulatedEndpoint:
    def __init__(self, world: DemoWorld, deployment: Deployment, token_delay: float) -> None:
        self.world = world
        self.deployment = deployment
        self.base_url = deployment.base_url or "http://127.0.0.1:8000"
        self.token_delay = token_delay

    def health(self) -> bool:
        return self.world.serving(self.deployment.model)

    def served_models(self) -> list[str]:
        if not self.health():
            raise EndpointError(f"connection refused at {self.base_url}: the server is not up")
        return [self.deployment.model]

    def stream_chat(
        self, model: str, messages: list[ChatMessage], max_tokens: int | None = None
    ) -> Iterator[str | ChatUsage]:
        if not self.health():
            raise EndpointError(f"connection refused at {self.base_url}: the server is not up")
        reply = reply_for(
            [{"role": m.role, "content": m.content} for m in messages], model, max_tokens
        )
        for piece in reply.chunks:
            if self.token_delay:
                time.sleep(self.token_delay)
            yield piece
        yield ChatUsage(reply.prompt_tokens, reply.completion_tokens)
