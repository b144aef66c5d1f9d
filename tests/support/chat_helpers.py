"""Asking an endpoint for a reply the way the Chat screen and `vtui chat` do, and driving
the Chat screen itself in tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from textual import events
from textual.pilot import Pilot

from tests.support.helpers import TickingClock, demo, simulator
from vtui.backends.endpoint import ChatEndpoint, GivenEndpoint, ServedModel
from vtui.core.chat import ChatTurn, Conversation, SamplingSettings
from vtui.core.chat_stream import ChatEvent
from vtui.sim.replies import reply_for
from vtui.ui.app import VtuiApp
from vtui.ui.headless import settle
from vtui.ui.screens.chat import ChatScreen

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

    def metrics_text(self) -> str | None:
        return self.inner.metrics_text()

    def session(self, connections: int) -> AbstractAsyncContextManager[None]:
        return self.inner.session(connections)

    async def chat(self, body: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        async for event in self.inner.chat(body):
            if self.passed == self.release:
                await asyncio.Event().wait()  # until the reader cancels
            self.passed += 1
            yield event


def chat_app(url: str, api_key: str | None = None) -> VtuiApp:
    app = VtuiApp(
        demo(),
        live=False,
        given_endpoint=GivenEndpoint(url, api_key, "$TEST_KEY" if api_key else "no API key"),
        start_mode="chat",
    )
    app.clock = TickingClock()
    return app


async def until(condition: Callable[[], object], limit: float = 10.0) -> None:
    for _ in range(int(limit / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


def reply_drawn(screen: ChatScreen, turns: int = 2) -> bool:
    """The reply is in the conversation and drawn to its end, its figures line under it."""
    return len(screen.conversation.turns) == turns and screen.last_reply_drawn


def chat(app: VtuiApp) -> ChatScreen:
    assert isinstance(app.screen, ChatScreen)
    return app.screen


async def open_chat(app: VtuiApp, pilot: Pilot[None]) -> ChatScreen:
    """The Chat screen, opened with its key once the app has settled."""
    await settle(app)
    await pilot.press("escape", "5")  # out of the Models search box first
    await settle(app)
    return chat(app)


# Longer than the screen draws in one frame, however fast the machine: the reply is drawn
# over many frames, from a backlog.
LONG_REPLY_TOKENS = 3000


@asynccontextmanager
async def chat_with_long_replies() -> AsyncIterator[tuple[VtuiApp, Pilot[None], ChatScreen]]:
    """The Chat screen, ready to send, against the simulator as a real HTTP server whose
    every reply is LONG_REPLY_TOKENS tokens, streamed as fast as it goes."""
    with simulator("--model", MODEL, "--sim-reply-tokens", str(LONG_REPLY_TOKENS)) as sim:
        app = chat_app(sim.url)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = chat(app)
            await until(lambda: screen.served)
            yield app, pilot, screen


async def send_without_waiting(app: VtuiApp, pilot: Pilot[None], text: str) -> None:
    """Type `text` and press Enter as the terminal sends it: pilot.press would wait until
    the reply is drawn."""
    await pilot.press(*text)
    app.post_message(events.Key("enter", "\r"))


# A long reply, as the demo streams one: what the long-conversation tests lay out.
LONG_TEXT = reply_for([{"role": "user", "content": "go"}], "m", None, length=1500).text
