"""The log viewer: bounded memory, line numbers that hold, filter, search, first error,
following, and saving, on the Server screen as a user drives it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from tests.support.helpers import demo_app
from vtui.core.log_buffer import LogBuffer, level_of
from vtui.ui.headless import settle
from vtui.ui.widgets.log_view import LogView

ERROR_LINE = (
    "(EngineCore_DP0 pid=120) ERROR 11-19 12:16:36 [core.py:842] torch.OutOfMemoryError: CUDA "
    "out of memory."
)


def test_a_million_lines_keep_only_the_cap_and_their_numbers() -> None:
    buffer = LogBuffer(cap=10_000)
    buffer.extend(f"INFO line {i}" for i in range(1_000_000))
    assert buffer.rows == 10_000 and buffer.dropped == 990_000
    assert buffer.line(999_999) == "INFO line 999999"
    assert buffer.number_at(0) == 990_000


def test_levels_are_read_as_vllm_prints_them() -> None:
    assert level_of(ERROR_LINE) == "ERROR"
    assert level_of("(APIServer pid=1) WARNING 11-24 09:00:01 [x.py:1] slow tokenizer") == "WARNING"
    assert level_of("ERROR:    [Errno 98] error while attempting to bind") == "ERROR"
    assert level_of("Traceback (most recent call last):") == "ERROR"
    assert level_of("ValueError: No available memory for the cache blocks.") == "ERROR"
    assert level_of("Loading safetensors checkpoint shards: 100% Completed") is None


def test_filter_search_and_first_error_find_lines_by_number() -> None:
    buffer = LogBuffer(cap=100)
    buffer.extend(["INFO a", "WARNING careful", ERROR_LINE, "INFO KV cache b", "INFO KV cache c"])
    assert buffer.first_error() == 2
    assert buffer.find("kv cache", after=None) == 3  # from the top when nothing is marked
    assert buffer.find("kv cache", after=3) == 4
    assert buffer.find("kv cache", after=4) == 3  # wraps around
    assert buffer.find("kv cache", after=4, backwards=True) == 3
    buffer.set_filter("WARNING")
    assert [buffer.number_at(r) for r in range(buffer.rows)] == [1, 2]
    buffer.extend(["ERROR later", "INFO quiet"])
    assert [buffer.number_at(r) for r in range(buffer.rows)] == [1, 2, 5]
    assert buffer.find("kv cache", after=None) is None  # filtered out


def title(app: Any) -> str:
    return str(app.screen.query_one("#log-title", Static).render())


async def test_the_server_screens_keys_search_filter_follow_and_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await app.switch_mode("server")
        await settle(app)
        view = app.screen.query_one(LogView)
        assert view.buffer.rows > 30 and "following" in title(app)
        await pilot.press("e")
        assert "no error in the log" in title(app)
        await pilot.press("slash", *"KV cache size", "enter")
        await pilot.pause()
        assert view.marked is not None and "KV cache size" in view.buffer.line(view.marked)
        assert f"line {view.marked + 1:,}" in title(app) and not view.following
        await pilot.press("v")
        assert "WARNING and above" in title(app) and view.buffer.rows == 0
        await pilot.press("v", "v", "f")
        assert "following" in title(app)
        await pilot.press("s")
        await pilot.pause()
        # The demo's log goes to the demo's own folder, never the user's state folder.
        saved = list(app.backends.places.logs.glob("*.log"))
        assert len(saved) == 1 and saved[0].read_text() == view.buffer.text()
        assert list(tmp_path.iterdir()) == []
        assert "Application startup complete." in saved[0].read_text()


async def test_only_the_rows_on_screen_are_drawn() -> None:
    from textual.app import App, ComposeResult

    drawn: list[int] = []

    class Counting(LogView):
        def render_line(self, y: int) -> Any:
            drawn.append(y)
            return super().render_line(y)

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Counting()

    app = One()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(Counting)
        view.append([f"INFO line {i}" for i in range(200_000)])
        await pilot.pause()
        drawn.clear()
        view.refresh()
        await pilot.pause()
        assert 0 < len(drawn) <= 24 * 2  # a frame's rows, not 200,000
        assert view.scroll_y == view.max_scroll_y  # following: at the end
