"""Child process for bench/startup.py: start one app in a terminal, quit after its first frame.

    python -m bench.first_frame vtui|bare FD

It writes the wall-clock time of its first frame to file descriptor FD, so the parent can
measure start-to-first-frame without counting the app's teardown.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def bare_app() -> Any:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("Hello")
            yield Footer()

    return Bare()


def vtui_app() -> Any:
    # The same path `vtui --demo` takes: parse, build the demo backends, build the app.
    from vtui.cli.main import build_app, build_parser

    return build_app(build_parser(["--demo"]).parse_args(["--demo"]))


def main() -> None:
    report_fd = int(sys.argv[2])
    app = vtui_app() if sys.argv[1] == "vtui" else bare_app()

    def first_frame() -> None:
        os.write(report_fd, f"{time.time():.6f}".encode())
        os.close(report_fd)
        app.exit()

    async def after_first_refresh(pilot: Any) -> None:
        app.call_after_refresh(first_frame)

    app.run(auto_pilot=after_first_refresh)


if __name__ == "__main__":
    main()
