"""The Chat pane: how many tokens a second it renders, and how fast keys answer meanwhile.

    python -m bench.chat [--tokens N]

The vLLM simulator runs as a real HTTP server on loopback and streams as fast as it can
(--sim-token-delay 0), each reply N pieces of Markdown (prose, a list, a code block).
  1. render rate: from Enter to the last token drawn in the pane (the reply's figures line
     shown, the frame drawn), tokens from the usage chunk. Baselines, same run: the same
     stream read by vtui's HTTP client with no UI (the server's ceiling), and a bare Textual
     app with one Markdown widget fed the same pieces through MarkdownStream (no HTTP).
  2. key latency while a reply streams: letters typed into the chat input, each timed until
     the input shows it and the frame is drawn; once with the stream as fast as it goes,
     once paced at 200 tokens/s (a fast vLLM stream); baseline: a bare Textual Input, idle.
Targets: >= 2,000 tokens/s rendered; keys <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.keys import next_frame, percentile

MODEL = "Qwen/Qwen2.5-7B-Instruct"


def start_simulator(tokens: int, delay: float = 0.0) -> tuple[subprocess.Popen[bytes], str]:
    from tests.support.helpers import free_port, simulator_argv, wait_for_health

    port = free_port()
    argv = simulator_argv(port, "--model", MODEL, "--sim-token-delay", str(delay))
    proc = subprocess.Popen(
        [*argv, "--sim-reply-tokens", str(tokens)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_health(url, None)
    return proc, url


def body(prompt: str) -> dict[str, Any]:
    from vtui.core.chat import ChatTurn, Conversation

    return Conversation(turns=[ChatTurn("user", prompt)]).request_body(MODEL)


async def client_only(url: str) -> tuple[float, list[str]]:
    """tokens/s with no UI at all, and the pieces, for the bare-Textual baseline."""
    from vtui.backends.endpoint.http import HttpEndpoint
    from vtui.core.chat_stream import AnswerDelta
    from vtui.core.records import ChatUsage

    pieces: list[str] = []
    tokens = 0
    started = time.perf_counter()
    async for event in HttpEndpoint(url).chat(body("Tell me about serving.")):
        if isinstance(event, AnswerDelta):
            pieces.append(event.text)
        elif isinstance(event, ChatUsage):
            tokens = event.completion_tokens
    return tokens / (time.perf_counter() - started), pieces


async def bare_markdown(pieces: list[str]) -> float:
    from textual.app import App, ComposeResult
    from textual.widgets import Markdown

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Markdown()

    app = Bare()
    async with app.run_test(size=(120, 40)):
        stream = Markdown.get_stream(app.query_one(Markdown))
        started = time.perf_counter()
        for piece in pieces:
            await stream.write(piece)
        await stream.stop()
        await next_frame(app)
        return len(pieces) / (time.perf_counter() - started)


def chat_app(url: str) -> Any:
    from vtui.backends.endpoint import GivenEndpoint
    from vtui.backends.registry import demo_backends
    from vtui.ui.app import VtuiApp

    return VtuiApp(
        demo_backends(token_delay=0),
        live=False,
        given_endpoint=GivenEndpoint(url),
        start_mode="chat",
    )


async def pane_rate(url: str, rounds: int) -> list[float]:
    from textual import events

    app = chat_app(url)
    rates = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen: Any = app.screen
        while not screen.served:
            await asyncio.sleep(0.01)
        for n in range(rounds):
            await pilot.press("ctrl+n")
            await pilot.press(*f"question {n}")
            started = time.perf_counter()
            # As the terminal sends it: pilot.press would wait for the whole reply.
            app._driver.send_message(events.Key("enter", "\r"))
            while not screen.last_reply_drawn:
                await asyncio.sleep(0.001)
            await next_frame(app)
            elapsed = time.perf_counter() - started
            stats = screen.conversation.turns[-1].stats
            rates.append(stats.completion_tokens / elapsed)
    return rates


def drawing(screen: Any) -> bool:
    """Text of the last reply is still coming in or being drawn."""
    return bool(screen.streaming or not screen.last_reply_drawn)


async def type_letter(app: Any, field: Any) -> float:
    """Seconds from a letter sent as the terminal driver sends it until the input shows it
    and the frame is drawn; then a fast typist's pause (50 keys a second)."""
    from textual import events

    before = field.value
    started = time.perf_counter()
    app._driver.send_message(events.Key("x", "x"))
    while field.value == before:
        await asyncio.sleep(0.0005)
    await next_frame(app)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.02)
    return elapsed


async def keys_while_streaming(url: str, keys: int) -> list[float]:
    from textual import events
    from textual.widgets import Input

    app = chat_app(url)
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen: Any = app.screen
        while not screen.served:
            await asyncio.sleep(0.01)
        field = screen.query_one("#chat-input", Input)
        while len(latencies) < keys:
            await pilot.press(*"go")
            app._driver.send_message(events.Key("enter", "\r"))
            while not screen.streaming:
                await asyncio.sleep(0.001)
            while drawing(screen) and len(latencies) < keys:
                latencies.append(await type_letter(app, field))
            screen.action_stop()
            while drawing(screen):
                await asyncio.sleep(0.001)
            field.value = ""
    return latencies


async def keys_idle_bare(keys: int) -> list[float]:
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Input()

    app = Bare()
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)):
        field = app.query_one(Input)
        field.focus()
        for _ in range(keys):
            latencies.append(await type_letter(app, field))
    return latencies


def ms(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5) * 1000:.1f} ms, p95 {percentile(values, 0.95) * 1000:.1f}"
        f" ms, max {max(values) * 1000:.1f} ms"
    )


async def main(tokens: int, rounds: int, keys: int, paced: float) -> None:
    proc, url = start_simulator(tokens)
    try:
        raw, pieces = await client_only(url)
        bare = await bare_markdown(pieces)
        pane = await pane_rate(url, rounds)
        typed = await keys_while_streaming(url, keys)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    proc, url = start_simulator(tokens, paced)
    try:
        typed_paced = await keys_while_streaming(url, keys)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    idle = await keys_idle_bare(keys)
    rate = statistics.median(pane)
    print(f"reply: {tokens:,} tokens of Markdown, simulator on loopback, no delay")
    print(f"  HTTP client alone (server ceiling):  {raw:10,.0f} tokens/s")
    print(f"  bare Textual Markdown stream:        {bare:10,.0f} tokens/s")
    print(f"  vtui chat pane, Enter to last frame: {rate:10,.0f} tokens/s (median of {rounds})")
    print(f"  ratio pane / bare Markdown: {rate / bare:.2f}; pane / HTTP client: {rate / raw:.2f}")
    print(f"  target >= 2,000 tokens/s: {'met' if rate >= 2000 else 'MISSED'}")
    print(f"keys typed while a reply streams ({keys}): {ms(typed)}")
    print(f"keys while a reply streams at {1 / paced:,.0f} tokens/s ({keys}): {ms(typed_paced)}")
    print(f"keys in a bare Textual Input, idle ({keys}): {ms(idle)}")
    p95 = percentile(typed, 0.95)
    print(f"  ratio p95 / bare p95: {p95 / percentile(idle, 0.95):.2f}")
    print(f"  target p95 <= 50 ms: {'met' if p95 <= 0.05 else 'MISSED'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=4000, help="pieces per reply")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument(
        "--paced", type=float, default=0.005, help="seconds per token for the paced key run"
    )
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.tokens, args.rounds, args.keys, args.paced)))
