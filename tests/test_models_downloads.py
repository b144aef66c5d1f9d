"""Downloading from the Models screen: queue, progress, stop and resume, as a user sees it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.widgets import DataTable

from tests.support.helpers import TickingClock, demo_app
from vtui.backends.hub.simulated import SimulatedHub
from vtui.core.downloads import Progress
from vtui.ui.app import VtuiApp
from vtui.ui.headless import settle
from vtui.ui.widgets.downloads import DownloadRow, DownloadsPanel, render_downloads


def panel_text(app: VtuiApp) -> str:
    return str(render_downloads(list(app.screen.query_one(DownloadsPanel).rows.values())))


async def wait_for(app: VtuiApp, pilot: Any, words: str, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while words not in panel_text(app):
        assert time.monotonic() < deadline, f"never showed {words!r}: {panel_text(app)!r}"
        await pilot.pause(0.05)


async def pick_row(app: VtuiApp, pilot: Any, repo_id: str, *, wait: bool = True) -> None:
    if wait:  # for the table to fill; not while a download runs, which settle would wait out
        await settle(app)
    table: DataTable[Any] = app.screen.query_one(DataTable)
    table.focus()  # the screen opens in its search box, where d and x are letters
    table.move_cursor(row=table.get_row_index(repo_id))
    await pilot.pause()


async def test_d_downloads_the_selected_model_with_progress_until_done() -> None:
    app = demo_app()
    app.backends.hub = SimulatedHub(pause=lambda _s: time.sleep(0.002))
    async with app.run_test(size=(140, 40)) as pilot:
        await pick_row(app, pilot, "Qwen/Qwen3-8B")
        await pilot.press("d")
        await wait_for(app, pilot, "done")
        text = panel_text(app)
        assert "Qwen/Qwen3-8B" in text and "in the HF cache" in text
        told = " ".join(str(n.message) for n in app._notifications)
        assert "ready in " in told and "models--Qwen--Qwen3-8B/snapshots/" in told


@pytest.mark.fault("download-resume")
async def test_x_stops_a_download_and_d_resumes_it_from_where_it_stopped() -> None:
    app = demo_app()
    hub = SimulatedHub(pause=lambda _s: time.sleep(0.02))
    app.backends.hub = hub
    async with app.run_test(size=(140, 40)) as pilot:
        await pick_row(app, pilot, "meta-llama/Llama-3.3-70B-Instruct")
        await pilot.press("d")
        await wait_for(app, pilot, "ETA")
        await pilot.press("x")
        await wait_for(app, pilot, "stopped")
        kept = hub.downloaded["meta-llama/Llama-3.3-70B-Instruct"]
        assert kept > 0
        # The stopped row's bar and words show the bytes kept, not an empty bar.
        stopped = panel_text(app)
        assert "kept: d resumes" in stopped and " of " in stopped
        assert "█" in stopped
        assert hub.plan_download("meta-llama/Llama-3.3-70B-Instruct").missing_bytes == (
            hub.plan_download("meta-llama/Llama-3.3-70B-Instruct").total_bytes - kept
        )
        await pilot.press("d")
        await wait_for(app, pilot, "downloading")
        await pilot.press("x")
        await wait_for(app, pilot, "stopped")
        assert hub.downloaded["meta-llama/Llama-3.3-70B-Instruct"] >= kept


async def test_a_second_model_waits_its_turn() -> None:
    app = demo_app()
    # Ten progress reports a second, as the real downloader sends them.
    app.backends.hub = SimulatedHub(pause=lambda _s: time.sleep(0.1))
    async with app.run_test(size=(140, 40)) as pilot:
        await pick_row(app, pilot, "meta-llama/Llama-3.3-70B-Instruct")
        await pilot.press("d")
        await pick_row(app, pilot, "Qwen/Qwen3-8B", wait=False)
        await pilot.press("d")
        await wait_for(app, pilot, "queued")
        rows = app.screen.query_one(DownloadsPanel).rows
        assert rows["Qwen/Qwen3-8B"].state == "queued"
        await pilot.press("x")
        await wait_for(app, pilot, "stopped")
        await wait_for(app, pilot, "done", limit=30)  # the queued one ran after
        assert rows["Qwen/Qwen3-8B"].state == "done"


@pytest.mark.fault("disk-full")
def test_a_failed_download_says_why_in_its_row() -> None:
    text = str(
        render_downloads(
            [
                DownloadRow("org/a", "failed", note="org/a is gated: accept its terms ..."),
                DownloadRow("org/b", "downloading", Progress("org/b", 5, 10, "w.safetensors")),
            ]
        )
    )
    assert "failed      org/a" in text and "is gated" in text
    assert "downloading org/b" in text and "(50%)" in text


async def test_l_lists_local_models_and_enter_hands_one_to_launch() -> None:
    app = demo_app()
    app.backends.hub = SimulatedHub(pause=lambda _s: time.sleep(0.002))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app)
        await pilot.press("escape", "l")
        await settle(app)
        local: DataTable[Any] = app.screen.query_one("#local-table", DataTable)
        assert local.display and local.row_count == 1
        assert str(local.get_row_at(0)[0]) == "Qwen/Qwen2.5-7B-Instruct"
        await pilot.press("enter")
        assert app.selected_model == "Qwen/Qwen2.5-7B-Instruct"  # the repo id: vLLM finds it
        await pilot.press("escape", "l")  # back to the Hub, download one, and it is listed
        await settle(app)
        await pick_row(app, pilot, "Qwen/Qwen3-8B")
        await pilot.press("d")
        await wait_for(app, pilot, "done")
        await pilot.press("escape", "l")
        await settle(app)
        assert local.row_count == 2


async def test_delete_asks_first_and_then_frees_the_disk() -> None:
    app = demo_app()
    hub = SimulatedHub()
    app.backends.hub = hub
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app)
        await pilot.press("escape", "l")
        await settle(app)
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("n")  # the question is answered no: nothing goes
        await settle(app)
        assert "Qwen/Qwen2.5-7B-Instruct" in hub.downloaded
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("y")
        await settle(app)
        assert "Qwen/Qwen2.5-7B-Instruct" not in hub.downloaded
        assert app.screen.query_one("#local-table", DataTable).row_count == 0


def test_a_download_row_fits_its_width_giving_up_the_file_name_then_the_rate() -> None:
    progress = Progress(
        "Qwen/Qwen3-8B", 3_200_000_000, 16_400_000_000, "model-00002-of-00004.safetensors",
        rate=85_000_000.0,
    )  # fmt: skip
    row = DownloadRow("Qwen/Qwen3-8B", "downloading", progress)
    whole = render_downloads([row]).plain
    assert "model-00002-of-00004.safetensors" in whole and "85.0 MB/s" in whole
    narrow = render_downloads([row], 78).plain
    assert len(narrow) <= 78 and "\n" not in narrow
    assert "(20%)" in narrow and "ETA 2m35s" in narrow
    assert "safetensors" not in narrow and "MB/s" not in narrow  # the least telling went
    assert "85.0 MB/s" in render_downloads([row], 90).plain  # the rate, where it fits


def test_a_failure_too_long_for_its_row_goes_on_below_it_whole() -> None:
    why = "org/a is gated: accept its terms at https://huggingface.co/org/a, then hf auth login"
    lines = render_downloads([DownloadRow("org/a", "failed", note=why)], 60).plain.splitlines()
    assert all(len(line) <= 60 for line in lines) and len(lines) > 1
    assert " ".join(" ".join(lines[1:]).split()) == why


async def test_h_points_downloads_and_the_fit_at_another_host() -> None:
    from vtui.backends.registry import demo_backends

    app = VtuiApp(demo_backends(7, remote_hosts=1), live=False)
    app.clock = TickingClock()
    app.backends.hub = SimulatedHub(pause=lambda _s: time.sleep(0.002))
    assert app.backends.hosts is not None
    far = app.backends.hosts.downloads_on("gpu-2")
    assert isinstance(far, SimulatedHub) and "Qwen/Qwen3-8B" not in far.downloaded
    async with app.run_test(size=(140, 40)) as pilot:
        await pick_row(app, pilot, "Qwen/Qwen3-8B")
        await pilot.press("h")
        await settle(app)
        status = str(app.screen.query_one("#models-status").render())
        assert "fit and downloads: gpu-2" in status
        table: DataTable[Any] = app.screen.query_one("#models-table", DataTable)
        assert str(table.columns[app.screen.fit_column].label) == "Fit gpu-2"  # type: ignore[attr-defined]
        assert app.gpu_host == "gpu-2"  # the GPU screen follows the same host
        await pilot.press("d")
        await wait_for(app, pilot, "done")
        assert "in gpu-2's HF cache" in panel_text(app)
        told = " ".join(str(n.message) for n in app._notifications)
        assert "on host gpu-2" in told
    # The files went to gpu-2's cache, not this machine's.
    assert "Qwen/Qwen3-8B" in far.downloaded
    assert "Qwen/Qwen3-8B" not in app.backends.hub.downloaded  # type: ignore[attr-defined]
