"""Child process for bench/startup.py: start one app in a terminal, quit after its first frame.

    python -m bench.first_frame vtui|vtui-real|bare FD

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


def vtui_app(argv: list[str]) -> Any:
    # The same path `vtui` takes: parse, build the backends, build the app.
    from vtui.cli.main import build_app, build_parser

    return build_app(build_parser(argv).parse_args(argv))


def main() -> None:
    report_fd = int(sys.argv[2])
    which = sys.argv[1]
    # "vtui": the demo; "vtui-real": the real backends, with whatever hosts config.toml names.
    app = bare_app() if which == "bare" else vtui_app(["--demo"] if which == "vtui" else [])

    def first_frame() -> None:
        os.write(report_fd, f"{time.time():.6f}".encode())
        os.close(report_fd)
        app.exit()

    async def after_first_refresh(pilot: Any) -> None:
        app.call_after_refresh(first_frame)

    app.run(auto_pilot=after_first_refresh)


if __name__ == "__main__":
    main()
