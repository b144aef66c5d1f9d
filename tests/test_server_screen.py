"""The Server screen as a user drives it: it follows the chosen container, stops, restarts
and removes it, and applies the explainer's fix to the profile with one key."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from textual.widgets import DataTable

from tests.support.helpers import ManualClock, demo
from tests.support.screens import text_of, until
from vtui.backends.files.profile_store import ProfileStore
from vtui.core.launch_spec import LaunchSpec
from vtui.core.records import ContainerState, Deployment
from vtui.services.launching import launch
from vtui.ui.app import VtuiApp
from vtui.ui.headless import settle
from vtui.ui.screens.server import ServerScreen
from vtui.ui.widgets.top_bar import TopBar

LLAMA = "meta-llama/Llama-3.1-8B-Instruct"


async def server_with(
    pilot: Any, app: VtuiApp, clock: ManualClock, model: str, **args: object
) -> ServerScreen:
    spec = LaunchSpec(name="second", model=model, gpus=(1,), port=8001, args=args)
    launch(app.backends, spec)
    app.follow_container = spec.container
    app.read_deployments()
    await app.switch_mode("server")
    await asyncio.sleep(0.3)
    assert isinstance(app.screen, ServerScreen)
    return app.screen


@pytest.mark.fault("container-exit")
async def test_a_crash_shows_why_and_a_applies_the_fix_and_launches_again() -> None:
    clock = ManualClock()
    app = VtuiApp(demo(clock=clock))
    async with app.run_test(size=(120, 40)) as pilot:
        await server_with(pilot, app, clock, LLAMA, **{"--max-model-len": 1_000_000})
        clock.advance(30)
        await until(app, "the crash", lambda: "crashed (exit 1)" in text_of(app, "#server-phase"))
        advice = text_of(app, "#server-advice")
        assert "KV cache cannot hold one request of max-model-len 1,000,000" in advice
        assert "set --max-model-len 462,080 in profile second and launch again" in advice

        await pilot.press("a")
        store = ProfileStore(app.backends.places.config)
        await until(
            app,
            "the fix saved",
            lambda: store.load("second").args.get("--max-model-len") == 462_080,
        )
        clock.advance(30)
        await until(
            app, "the new run ready", lambda: "ready; started in" in text_of(app, "#server-phase")
        )
        assert not app.screen.query_one("#server-advice").display
        running = [d for d in app.backends.engine.list_deployments() if d.name == "vtui-second"]
        assert [d.state for d in running] == [ContainerState.RUNNING]


async def test_stop_asks_first_then_stops_and_remove_takes_it_away() -> None:
    clock = ManualClock()
    app = VtuiApp(demo(clock=clock))
    async with app.run_test(size=(120, 40)) as pilot:
        await server_with(pilot, app, clock, "Qwen/Qwen3-8B")
        clock.advance(30)
        await until(app, "ready", lambda: "ready; started in" in text_of(app, "#server-phase"))
        await pilot.press("x")
        await pilot.press("n")  # changed my mind
        await asyncio.sleep(0.3)
        assert app.screen.selected is not None and app.screen.selected.live  # type: ignore[attr-defined]

        await pilot.press("x")
        await pilot.press("y")
        await until(app, "stopped", lambda: "stopped" in text_of(app, "#server-phase"))
        assert "Shutting down" in app.screen.query_one("#server-log").buffer.text()  # type: ignore[attr-defined]

        await pilot.press("D")
        await pilot.press("y")
        await until(
            app,
            "the container gone",
            lambda: "vtui-second" not in {d.name for d in app.deployments},
        )


async def test_restart_starts_a_new_run_in_the_same_log() -> None:
    clock = ManualClock()
    app = VtuiApp(demo(clock=clock))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await server_with(pilot, app, clock, "Qwen/Qwen3-8B")
        clock.advance(30)
        await until(app, "ready", lambda: "ready; started in" in text_of(app, "#server-phase"))
        await pilot.press("R")
        await pilot.press("y")
        await until(
            app, "the new run starting", lambda: "ready" not in text_of(app, "#server-phase")
        )
        clock.advance(30)
        await until(
            app, "ready again", lambda: "ready; started in" in text_of(app, "#server-phase")
        )
        log = screen.query_one("#server-log").buffer.text()  # type: ignore[attr-defined]
        assert log.count("vLLM API server version") == 2 and "Shutting down" in log


async def test_choosing_a_row_makes_it_the_active_deployment_in_the_header() -> None:
    clock = ManualClock()
    app = VtuiApp(demo(clock=clock))
    async with app.run_test(size=(120, 40)) as pilot:
        await server_with(pilot, app, clock, "Qwen/Qwen3-8B")
        await until(
            app,
            "the header",
            lambda: (
                app.active_deployment is not None and app.active_deployment.name == "vtui-second"
            ),
        )
        await pilot.press("up")
        await until(
            app,
            "the first row active",
            lambda: (
                app.active_deployment is not None
                and app.active_deployment.name == "vtui-qwen2.5-7b-instruct"
            ),
        )
        header = app.screen.query_one(TopBar).deployment_line.plain
        assert header.startswith("\u25cf vtui-qwen2.5-7b-instruct  running")


async def test_serving_figures_and_a_load_test_from_the_server_screen() -> None:
    from textual.widgets import Input

    from vtui.backends.registry import demo_backends
    from vtui.ui.widgets.load_panel import LoadTestDialog
    from vtui.ui.widgets.serving_panel import ServingPanel

    backends = demo_backends(7, ManualClock(), token_delay=0.002)
    app = VtuiApp(backends)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.switch_mode("server")
        screen = app.screen
        assert isinstance(screen, ServerScreen)
        panel = screen.query_one(ServingPanel)
        await until(app, "the serving figures", lambda: "Tokens/s" in str(panel.render()))
        assert panel.display

        await pilot.press("b")
        await until(app, "the dialog", lambda: isinstance(app.screen, LoadTestDialog))
        dialog = app.screen
        dialog.query_one("#load-concurrency", Input).value = "0"
        await pilot.press("enter")
        problem = str(dialog.query_one("#load-problem").render())
        assert "Requests at once: 0 is out of range: give 1 to 1,024" in problem
        assert app.screen is dialog  # nothing starts with a bad setting
        dialog.query_one("#load-concurrency", Input).value = "3"
        dialog.query_one("#load-duration", Input).value = "1.5"
        dialog.query_one("#load-max_tokens", Input).value = "16"
        await pilot.press("enter")
        # A 1.5 s run may finish between two polls on a loaded box: only "done" is sure to
        # be seen; the running state is checked on the long run below.
        await until(app, "the load test done", lambda: "done" in text_of(app, "#load-title"))
        body = text_of(app, "#load-body")
        assert "TTFT" in body and "ITL" in body and "errors      none" in body
        assert "saved " in body
        # A long one, stopped with b: it says stopped, and q asks while it runs.
        await pilot.press("b")
        await until(app, "the dialog", lambda: isinstance(app.screen, LoadTestDialog))
        app.screen.query_one("#load-duration", Input).value = "60"
        await pilot.press("enter")
        await until(app, "the load test running", lambda: "b: stop" in text_of(app, "#load-title"))
        assert "a load test is running" in " ".join(w for ask in app.unfinished_work
                                                       if (w := ask()))  # fmt: skip
        await pilot.press("b")
        await until(app, "the load test stopped", lambda: "stopped" in text_of(app, "#load-title"))
        assert "done" not in text_of(app, "#load-title")
    saved = sorted(backends.places.bench_runs.glob("*.json"))
    assert len(saved) == 2
    data = json.loads(saved[0].read_text())
    assert data["settings"]["concurrency"] == 3 and data["results"]["requests_completed"] > 0
    assert data["launch"]["container"] == "vtui-qwen2.5-7b-instruct"


async def test_a_host_that_does_not_answer_is_named_and_the_others_stay() -> None:
    from vtui.backends.registry import demo_backends
    from vtui.core.errors import EngineUnavailable
    from vtui.ui.widgets.notice import Notice

    backends = demo_backends(7, ManualClock(), remote_hosts=2)
    assert backends.hosts is not None
    gone = backends.hosts.remotes["gpu-3"].engine

    def refuse() -> list[Deployment]:
        raise EngineUnavailable(
            "cannot reach the Docker engine at ssh://demo@gpu-3: Connection refused"
        )

    gone.list_deployments = refuse  # type: ignore[method-assign]
    app = VtuiApp(backends, live=False)
    async with app.run_test(size=(120, 40)):
        await settle(app)
        await app.switch_mode("server")
        await settle(app)
        notice = str(app.screen.query_one(Notice).render())
        assert "host gpu-3: cannot reach the Docker engine at ssh://demo@gpu-3" in notice
        table = app.screen.query_one("#deployments", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        # Grouped by host, the silent one a row of its own after the deployments.
        assert [row[0] for row in rows] == ["local", "gpu-2", "gpu-3"]
        assert rows[2][3] == "unreachable"


async def test_a_model_over_two_hosts_is_one_deployment_with_a_row_per_node() -> None:
    from vtui.backends.registry import demo_backends
    from vtui.services import deployments

    backends = demo_backends(7, ManualClock(), remote_hosts=1)
    spec = LaunchSpec(
        name="big", model="Qwen/Qwen2.5-7B-Instruct", port=8123, worker_hosts=("gpu-2",),
        head_address="10.0.0.1", args={"--pipeline-parallel-size": 2},
    )  # fmt: skip
    head = launch(backends, spec)
    app = VtuiApp(backends, live=False)
    async with app.run_test(size=(120, 40)):
        await settle(app)
        await app.switch_mode("server")
        await settle(app)
        table = app.screen.query_one("#deployments", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        ours = [row for row in rows if "vtui-big" in row[1]]
        # The worker (on gpu-2) right under its head (here), as one deployment.
        assert [(row[0], row[1], row[4]) for row in ours] == [
            ("local", "vtui-big", "127.0.0.1:8123"),
            ("gpu-2", "\u2514 vtui-big-worker-1", "worker-1 of big"),
        ]
        assert app.active_deployment is not None
        assert app.active_deployment.name != "vtui-big-worker-1"
    # Down on the head takes the worker with it, on its own host.
    from vtui.services.hosts import survey

    before = [(d.engine_host, d.name) for d in survey(backends)[0] if "big" in d.name]
    assert ("gpu-2", "vtui-big-worker-1") in before
    deployments.down(backends, head, timeout=1)
    assert [d.name for d in survey(backends)[0] if "big" in d.name] == []
