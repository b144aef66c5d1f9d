"""Driving the app as a person would: keys, the palette, search, chat, unavailable backends."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import cast

import pytest
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from tests.support.helpers import demo_app
from tests.support.screens import until
from vtui.backends.endpoint.http import HttpEndpoint
from vtui.backends.engine.docker_engine import DockerEngine
from vtui.backends.gpu.nvml import NvmlGpus
from vtui.backends.hub.hf import HfHub
from vtui.backends.registry import Backends
from vtui.locations import demo_locations
from vtui.sim.catalogue import CATALOGUE
from vtui.ui.app import VtuiApp
from vtui.ui.headless import settle
from vtui.ui.screens.chat import ChatScreen
from vtui.ui.screens.gpu import GpuScreen
from vtui.ui.screens.launch import LaunchScreen
from vtui.ui.screens.models import ModelsScreen
from vtui.ui.screens.server import ServerScreen
from vtui.ui.widgets.gpu_strip import GpuStrip
from vtui.ui.widgets.key_bar import KeyBar
from vtui.ui.widgets.log_view import LogView
from vtui.ui.widgets.long_markdown import LongMarkdown
from vtui.ui.widgets.notice import Notice
from vtui.ui.widgets.top_bar import TopBar


def text_of(widget: Widget) -> str:
    """What the widget shows on screen, as plain text (its border and padding too)."""
    region = Region(0, 0, widget.region.width, widget.region.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


def summary_of(app: VtuiApp) -> str:
    return str(app.screen.query_one("#doctor-summary", Static).render())


async def test_number_keys_reach_every_screen() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        assert isinstance(app.screen, ModelsScreen)
        # Models opens with the cursor in its search box, where a digit is text.
        search = app.screen.query_one("#model-search", Input)
        assert app.focused is search
        await pilot.press("2")
        assert isinstance(app.screen, ModelsScreen) and search.value == "2"
        await pilot.press("backspace", "escape")
        expected = {"2": "LaunchScreen", "3": "ServerScreen", "4": "GpuScreen", "5": "ChatScreen"}
        for key, screen in expected.items():
            await pilot.press(key)
            await settle(app)
            assert type(app.screen).__name__ == screen
        # Chat starts in its input, where a digit is text; Escape leaves the input.
        await pilot.press("1")
        assert isinstance(app.screen, ChatScreen)
        await pilot.press("escape", "1")
        await settle(app)
        assert isinstance(app.screen, ModelsScreen)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_every_key_in_the_footer_is_shown_whole(size: tuple[int, int]) -> None:
    # The footers ran over: "q Qui" at 80 columns, "^p palettet", "e First e".
    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await settle(app)
        for key in "12345":
            await pilot.press("escape", key)  # out of any field, to the screen keys
            await settle(app)
            bar = app.screen.query_one(KeyBar)
            line = text_of(bar)
            assert len(line.rstrip()) < size[0], line
            entries, palette = bar.entries()
            assert palette is not None
            drawn = [e for e in entries if f"{e.keys} {e.words}" in line]
            # What is drawn is whole; the screen keys and Quit always are; if any gave way,
            # the palette's entry says there is more.
            assert {"Screens", "Quit"} <= {e.words for e in drawn} or key == "5"
            if len(drawn) < len(entries):
                assert line.rstrip().endswith("^p more")
            else:
                assert line.rstrip().endswith(("^p palette", "^p cmds"))


async def test_palette_opens_a_screen_by_name() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"GPU screen")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app)
        assert isinstance(app.screen, GpuScreen)


async def test_top_bar_shows_the_deployment_and_the_demo_badge() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)):
        await settle(app)
        bar = text_of(app.screen.query_one(TopBar))
        assert "vtui-qwen2.5-7b-instruct" in bar and "running" in bar and "127.0.0.1:8000" in bar
        assert bar.rstrip().endswith("DEMO")


async def test_search_filters_and_enter_picks_the_model_for_launch() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        table = app.screen.query_one(DataTable)
        assert table.row_count == len(CATALOGUE)
        await pilot.press("escape", "slash", *"gemma", "enter")
        await settle(app)
        assert table.row_count == 1
        await pilot.press("enter")
        await settle(app)
        assert app.selected_model == "google/gemma-3-27b-it"
        await pilot.press("2")
        await settle(app)
        await settle(app)
        launch = app.screen
        assert isinstance(launch, LaunchScreen) and launch.spec is not None
        assert launch.spec.model == "google/gemma-3-27b-it"
        assert launch.spec.name == "gemma-3-27b-it" and not launch.saved


async def test_chat_streams_a_reply_and_digits_type_into_the_input() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await pilot.press("escape", "5")
        await settle(app)
        assert isinstance(app.screen, ChatScreen)
        await pilot.press(*"what is 2+2", "enter")
        await settle(app)
        assert isinstance(app.screen, ChatScreen)  # "2" was typed, not a screen switch
        assistant = app.screen.query(".chat-answer").last(LongMarkdown)
        assert "You asked: \u201cwhat is 2+2\u201d" in assistant.source
        stats = text_of(app.screen.query(".chat-stats").last(Static))
        assert "prompt +" in stats and "completion" in stats and "tok/s" in stats
        assert cast(Input, app.screen.query_one(Input)).value == ""


def unavailable_backends() -> Backends:
    """Real backends pointed at things that are not there: no engine, no Hub, no driver."""
    from vtui.backends.engine.attached import AttachedEndpoints
    from vtui.backends.host.machine import RealMachine

    engine = DockerEngine(base_url="unix:///nonexistent/docker.sock")
    places = demo_locations(Path(tempfile.mkdtemp(prefix="vtui-test-")))
    return Backends(
        engine=engine,
        hub=HfHub("http://127.0.0.1:9"),
        gpu=NvmlGpus(),
        endpoint_for=lambda d: HttpEndpoint("http://127.0.0.1:9"),
        demo=False,
        places=places,
        port_in_use=lambda host, port: False,
        attached=AttachedEndpoints(places.state),
        machine=RealMachine("unix:///nonexistent/docker.sock", "http://127.0.0.1:9"),
    )


@pytest.mark.fault("docker-down")
@pytest.mark.fault("nvml-missing")
@pytest.mark.fault("hub-unreachable")
async def test_unavailable_backends_say_why_and_invent_nothing() -> None:
    app = VtuiApp(unavailable_backends(), live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        bar = text_of(app.screen.query_one(TopBar))
        assert "DEMO" not in bar
        assert "engine unavailable" in bar
        strip = text_of(app.screen.query_one(GpuStrip))
        assert strip.startswith(" GPU N/A no NVIDIA driver here")
        notice = app.screen.query_one(Notice)
        assert "Model search is unavailable" in text_of(notice)
        assert "127.0.0.1:9" in text_of(notice)
        assert app.screen.query_one(DataTable).row_count == 0
        await pilot.press("escape", "3")
        await settle(app)
        assert isinstance(app.screen, ServerScreen)
        notice = text_of(app.screen.query_one(Notice))
        assert "cannot reach the Docker engine at unix:///nonexistent/docker.sock" in notice
        assert "no socket there" in notice
        assert not app.screen.query_one(LogView).display
        await pilot.press("4")
        await settle(app)
        gpu_notice = text_of(app.screen.query_one(Notice))
        assert "GPU figures are unavailable: no NVIDIA driver here" in gpu_notice
        assert "libnvidia-ml.so.1 was not found" in gpu_notice
        assert app.screen.query_one("#gpu-processes", DataTable).row_count == 0
        assert "Ctrl+G: vtui doctor" in gpu_notice
        await pilot.press("ctrl+g")
        await until(app, "the doctor's report", lambda: "fail" in summary_of(app))
        report = text_of(app.screen.query_one("#doctor-report"))
        assert "no Docker engine socket at unix:///nonexistent/docker.sock" in report
        assert "fix: " in report and "libnvidia-ml.so.1 was not found" in report
        await pilot.press("escape")
        assert isinstance(app.screen, GpuScreen)
        await pilot.press("5")
        await settle(app)
        assert "No server to talk to" in text_of(app.screen.query_one("#chat-status", Static))


async def test_the_palette_finds_every_command_of_the_screen_by_name_with_its_key() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await pilot.press("escape", "3")
        await settle(app)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for words in ("Stop (x)", "Restart (R)", "Remove (D)", "Load test (b)", "Doctor (^g)"):
            assert words in titles
        # The table's cursor keys are Textual's own, not commands.
        assert not any(title.startswith("Cursor") for title in titles)
        await pilot.press("2")
        await settle(app)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Save (^s)", "Launch (^r)", "Probe (^t)"} <= set(titles)


async def test_the_doctor_panel_opens_from_any_screen_and_shows_the_demos_checks() -> None:
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app)
        await pilot.press("escape", "4")
        await settle(app)
        await pilot.press("ctrl+g")
        await until(app, "the doctor's report", lambda: "pass" in summary_of(app))
        assert "2 simulated GPUs" in text_of(app.screen.query_one("#doctor-report"))
        assert summary_of(app).endswith("this machine can serve a model")
        await pilot.press("escape")
        assert isinstance(app.screen, GpuScreen)
