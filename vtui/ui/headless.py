"""Render every screen without a terminal and write each as an SVG."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from vtui.backends.registry import Backends
from vtui.core.ticking_clock import TickingClock
from vtui.ui.app import SCREENS, VtuiApp


@dataclass
class ScreenshotRun:
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    # Screens whose data did not come within DATA_WAIT_S: drawn as they were, and said.
    late: list[str] = field(default_factory=list)


# How long a screenshot waits for a screen's data (a slow box, a slow engine).
DATA_WAIT_S = 30.0


async def drawn(app: VtuiApp, limit: float = DATA_WAIT_S) -> bool:
    """Wait until the screen says its data is drawn; False after `limit` seconds."""
    from vtui.ui.screens.base import VtuiScreen

    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        screen = app.screen
        if not isinstance(screen, VtuiScreen) or screen.data_drawn():
            await settle(app)  # what came with the data, drawn too
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)


SETTLE_ROUNDS = 60
QUIET_ROUNDS = 4  # a mount between two workers leaves a round or so with none running


async def settle(app: VtuiApp) -> None:
    """Wait until the workers a screen started have finished and their results are drawn."""
    # A worker's result can start the next worker (profile -> facts -> fit inputs), so wait
    # until the app has stayed idle for QUIET_ROUNDS in a row, not a fixed number of rounds.
    idle = 0
    for _ in range(SETTLE_ROUNDS):
        await asyncio.sleep(0.05)
        busy = any(w.is_running or w.state.name == "PENDING" for w in app.workers)
        await app.workers.wait_for_complete()
        await app.animator.wait_until_complete()
        idle = 0 if busy else idle + 1
        if idle >= QUIET_ROUNDS:
            break
    await asyncio.sleep(0.05)


async def render_screens(backends: Backends, out_dir: Path, size: tuple[int, int]) -> ScreenshotRun:
    run = ScreenshotRun()
    app = VtuiApp(backends, live=False)
    if backends.demo:
        # The demo's chat figures (time to first token, tokens/s) the same on every run.
        app.clock = TickingClock()
    async with app.run_test(size=size, notifications=False):
        await settle(app)
        for mode, _key, title, _help in SCREENS:
            try:
                await app.switch_mode(mode)
                await settle(app)
                if not await drawn(app):
                    run.late.append(mode)
                if mode == "chat" and backends.demo:
                    await ask_the_demo(app, DEMO_QUESTION)
                svg = app.export_screenshot(title=f"vtui \u203a {title}")
                path = out_dir / f"{mode}.svg"
                path.write_text(svg, encoding="utf-8")
                run.written.append(path)
            except Exception as exc:  # one broken screen must not hide the others
                run.failed.append((mode, f"{type(exc).__name__}: {exc}"))
    return run


DEMO_QUESTION = "What does vLLM do?"


async def ask_the_demo(app: VtuiApp, question: str) -> None:
    """An empty chat shows nothing of it: ask the demo's simulated server one question and
    wait for the reply drawn to its end. Only in the demo: a real server is not asked."""
    from textual.widgets import Input

    from vtui.ui.screens.chat import ChatScreen

    screen = app.screen
    assert isinstance(screen, ChatScreen)
    field = screen.query_one("#chat-input", Input)
    field.value = question
    await field.action_submit()
    for _ in range(400):
        await settle(app)
        if screen.last_reply_drawn:
            return
        await asyncio.sleep(0.02)


def write_screenshots(backends: Backends, out_dir: Path, size: tuple[int, int]) -> ScreenshotRun:
    return asyncio.run(render_screens(backends, out_dir, size))
