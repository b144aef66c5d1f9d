"""Child process for bench/screens.py: start one app on a terminal, switch screens by their
keys, and write each switch's time (key to the first frame showing the new screen) to FD.

    python -m bench.screen_switch vtui|bare FD ROUNDS

Each line written is `cold|warm NAME SECONDS`. Cold is a screen's first visit (it is built
then); warm is every later one.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

VTUI_KEYS = {"2": "launch", "3": "server", "4": "gpu", "5": "chat", "1": "models"}
BARE_KEYS = {"b": "b", "a": "a"}


def bare_app() -> Any:
    from textual.app import App, ComposeResult
    from textual.screen import Screen
    from textual.widgets import Footer, Header, Static

    class Page(Screen[None]):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.page = name

        def compose(self) -> ComposeResult:
            yield Header()
            for row in range(30):
                yield Static(f"screen {self.page}, row {row}: some words of text")
            yield Footer()

    class Bare(App[None]):
        MODES = {"a": lambda: Page("a"), "b": lambda: Page("b")}
        DEFAULT_MODE = "a"
        BINDINGS = [("a", "switch_mode('a')", "A"), ("b", "switch_mode('b')", "B")]

    return Bare()


def vtui_app() -> Any:
    from vtui.cli.main import build_app, build_parser

    return build_app(build_parser(["--demo"]).parse_args(["--demo"]))


def main() -> None:
    which, report_fd, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    app = vtui_app() if which == "vtui" else bare_app()
    keys = VTUI_KEYS if which == "vtui" else BARE_KEYS
    lines: list[str] = []

    async def switch(key: str, mode: str) -> float:
        from textual import events

        shown = asyncio.get_running_loop().create_future()
        before = app.screen
        started = time.perf_counter()
        # The key as the terminal driver hands it over (not through Pilot, which waits for
        # the app to go idle and would time that too).
        app.post_message(events.Key(key, key))
        deadline = started + 20
        while app.screen is before:
            if time.perf_counter() > deadline:
                raise SystemExit(f"{key} did not switch to {mode}")
            await asyncio.sleep(0.0005)
        app.call_after_refresh(lambda: shown.set_result(time.perf_counter()))
        return float(await shown) - started

    async def leave_field() -> None:
        from textual import events
        from textual.widgets import Input

        app.post_message(events.Key("escape", None))
        for _ in range(400):
            if not isinstance(app.focused, Input):
                return
            await asyncio.sleep(0.005)

    async def drive(pilot: Any) -> None:
        await asyncio.sleep(1.0)  # the first screen's data has come
        if which == "vtui":
            await leave_field()  # out of the Models search box, so 1-5 are screen keys
        seen: set[str] = set()
        for _ in range(rounds + 1):
            for key, mode in keys.items():
                took = await switch(key, mode)
                kind = "warm" if mode in seen or (which == "vtui" and mode == "models") else "cold"
                seen.add(mode)
                lines.append(f"{kind} {mode} {took:.6f}")
                if which == "vtui" and mode == "chat":
                    await leave_field()  # Chat opens in its input
                await asyncio.sleep(0.05)
        os.write(report_fd, "\n".join(lines).encode())
        os.close(report_fd)
        app.exit()

    app.run(auto_pilot=drive)


if __name__ == "__main__":
    main()
