"""What each screen looks like in the demo, pinned at 120x40 and 80x24.

The demo world runs on a hand-moved clock and a fixed seed, and the app reads each backend
once (live=False), so every run draws the same picture.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Collapsible, DataTable, Input

from tests.support.chat_helpers import HeldEndpoint
from tests.support.helpers import ManualClock, demo_app
from vtui.backends.endpoint import ChatEndpoint
from vtui.core import labels
from vtui.core.records import Deployment, RunRequest
from vtui.core.ticking_clock import TickingClock
from vtui.core.vllm_release import DEFAULT_IMAGE
from vtui.ui.app import SCREENS, VtuiApp
from vtui.ui.headless import settle

SIZES = {"120x40": (120, 40), "80x24": (80, 24)}
Snap = Callable[..., bool]


def open_screen(mode: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot.app)  # type: ignore[arg-type]
        await pilot.app.switch_mode(mode)
        await settle(pilot.app)  # type: ignore[arg-type]

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
@pytest.mark.parametrize("mode", [s[0] for s in SCREENS])
def test_screen(snap_compare: Snap, mode: str, size: str) -> None:
    assert snap_compare(demo_app(), terminal_size=SIZES[size], run_before=open_screen(mode))


def test_chat_after_one_exchange(snap_compare: Snap) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_screen("chat")(pilot)
        await pilot.press(*"How much GPU memory does this model use?", "enter")
        await settle(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(demo_app(), terminal_size=(120, 40), run_before=run_before)


async def send(pilot: Pilot[Any], text: str) -> None:
    await open_screen("chat")(pilot)
    # A blinking cursor would be drawn or not by how long the run took.
    pilot.app.screen.query_one(Input).cursor_blink = False
    await pilot.press(*text, "enter")
    await settle(pilot.app)  # type: ignore[arg-type]
    # The reply is drawn a batch a frame, after its stream has ended.
    while not pilot.app.screen.last_reply_drawn:  # type: ignore[attr-defined]
        await pilot.pause(0.02)


def test_chat_while_a_reply_streams(snap_compare: Snap) -> None:
    app = demo_app()
    real = app.backends.endpoint_for
    held: list[HeldEndpoint] = []

    def hold(deployment: Deployment) -> ChatEndpoint:
        held.append(HeldEndpoint(real(deployment), release=14))
        return held[-1]

    app.backends.endpoint_for = hold

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_screen("chat")(pilot)
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.press(*"What does vLLM do?", "enter")
        while not held or held[-1].passed < 14:
            await pilot.pause(0.02)
        await pilot.pause(0.2)  # the Markdown stream draws what it was given

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_chat_reasoning_block_opened(snap_compare: Snap) -> None:
    clock = ManualClock()
    app = demo_app(clock=clock)
    thinker = app.backends.engine.run(
        RunRequest(
            image=DEFAULT_IMAGE,
            name="vtui-qwen3-8b",
            command=(
                "--model",
                "/app/model",
                "--served-model-name",
                "Qwen/Qwen3-8B",
                "--reasoning-parser",
                "qwen3",
            ),
            host="127.0.0.1",
            host_port=8001,
            container_port=8000,
            labels=labels.vtui_labels("Qwen/Qwen3-8B", "qwen3-8b"),
            gpus=(1,),
        )
    )
    clock.advance(60)
    app.chosen_container = thinker.container_id

    async def run_before(pilot: Pilot[Any]) -> None:
        await send(pilot, "Is 2+2 four?")
        pilot.app.screen.query_one(Collapsible).collapsed = False
        await settle(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_chat_error_when_the_container_has_exited(snap_compare: Snap) -> None:
    app = demo_app()
    running = app.backends.engine.list_deployments()[0]
    app.backends.engine.stop(running.container_id)

    async def run_before(pilot: Pilot[Any]) -> None:
        await send(pilot, "Are you up?")

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_models_search_narrowed(snap_compare: Snap) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot.app)  # type: ignore[arg-type]
        await pilot.press("slash", *"qwen", "enter")
        await settle(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(demo_app(), terminal_size=(80, 24), run_before=run_before)


def test_models_details_of_a_gated_model(snap_compare: Snap) -> None:
    """The details pane on a gated model, with the list narrowed by author."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot.app)  # type: ignore[arg-type]
        pilot.app.screen.query_one("#model-author", Input).value = "meta-llama"
        await settle(pilot.app)  # type: ignore[arg-type]
        await pilot.press("down")
        await settle(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(demo_app(), terminal_size=(120, 40), run_before=run_before)


def test_models_with_downloads_under_way(snap_compare: Snap) -> None:
    """Fixed figures, posted as the downloader would post them: the clock plays no part."""
    from vtui.core.downloads import Progress
    from vtui.ui.screens.models import ModelsScreen
    from vtui.ui.widgets.downloads import DownloadRow

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot.app)  # type: ignore[arg-type]
        screen = pilot.app.screen
        assert isinstance(screen, ModelsScreen)
        progress = Progress("Qwen/Qwen3-8B", 6_300_000_000, 16_400_000_000,
                            "model-00002-of-00005.safetensors", 1_200_000_000,
                            3_960_000_000, rate=112_000_000)  # fmt: skip
        for row in (
            DownloadRow("openai/gpt-oss-20b", "done", note="in the HF cache: l lists it"),
            DownloadRow("Qwen/Qwen3-8B", "downloading", progress),
            DownloadRow("google/gemma-3-27b-it", "queued"),
        ):
            screen.post_message(ModelsScreen.DownloadChanged(row))
        await settle(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(demo_app(), terminal_size=(120, 40), run_before=run_before)


def test_models_on_this_machine(snap_compare: Snap) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot.app)  # type: ignore[arg-type]
        await pilot.press("l")
        await settle(pilot.app)  # type: ignore[arg-type]
        # The inventory is read in a worker, and the table sizes its columns to new rows only
        # when its own queue is idle; on a loaded machine the picture was taken three times
        # before that (CI rehearsals: headers only as wide as their labels). Wait for the
        # widths themselves: every model name is wider than the "Model" header.
        table = pilot.app.screen.query_one("#local-table", DataTable)
        for _ in range(400):
            first = table.ordered_columns[0]
            if table.row_count and first.content_width > len(str(first.label)):
                break
            await pilot.pause(0.02)
        await settle(pilot.app)  # type: ignore[arg-type]
        await pilot.pause(0.1)
        await settle(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(demo_app(), terminal_size=(120, 40), run_before=run_before)


def test_launch_with_an_error_showing(snap_compare: Snap) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_screen("launch")(pilot)
        await settle(pilot.app)  # type: ignore[arg-type]
        box = pilot.app.screen.query_one("#field-gpu-memory-utilization Input", Input)
        box.focus()
        box.value = "1.5"
        await settle(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(demo_app(), terminal_size=(120, 40), run_before=run_before)


def _launch_in_demo(app: Any, spec_args: dict[str, object], model: str, name: str) -> None:
    """A profile saved and launched in the demo world, as the Launch screen does it."""
    from vtui.core.launch_spec import LaunchSpec
    from vtui.services.launching import launch

    spec = LaunchSpec(name=name, model=model, gpus=(1,), port=8001, args=spec_args)
    launch(app.backends, spec)
    app.follow_container = spec.container


def _server_after(spec_args: dict[str, object], model: str, seconds: float) -> Any:
    clock = ManualClock()
    app = demo_app(clock=clock)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot.app)  # type: ignore[arg-type]
        _launch_in_demo(pilot.app, spec_args, model, "second")
        clock.advance(seconds)
        pilot.app.read_deployments()  # type: ignore[attr-defined]
        await open_screen("server")(pilot)

    return app, run_before


def test_server_while_a_model_loads(snap_compare: Snap) -> None:
    app, run_before = _server_after({}, "Qwen/Qwen3-8B", 4.0)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_server_after_a_kv_cache_crash(snap_compare: Snap) -> None:
    app, run_before = _server_after(
        {"--max-model-len": 1_000_000}, "meta-llama/Llama-3.1-8B-Instruct", 30.0
    )
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


@pytest.mark.fault("docker-down")
def test_server_with_the_engine_unavailable(snap_compare: Snap) -> None:
    from vtui.core.errors import BackendUnavailable

    app = demo_app()

    def refuse() -> list[Any]:
        raise BackendUnavailable(
            "cannot reach the Docker engine at unix:///var/run/docker.sock: connection "
            "refused. Is dockerd running?"
        )

    app.backends.engine.list_deployments = refuse  # type: ignore[method-assign]
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_screen("server"))


def _gpu_history(
    clock: ManualClock, readings: int, mode: str
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """`readings` GPU readings a second apart on the demo's clock, then `mode` opened."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await settle(app)  # type: ignore[arg-type]
        await app.switch_mode("server")  # chooses the demo's deployment
        await settle(app)  # type: ignore[arg-type]
        for _ in range(readings):
            clock.advance(1)
            app.poll_gpus()  # type: ignore[attr-defined]
            await settle(app)  # type: ignore[arg-type]
        await app.switch_mode(mode)
        await settle(app)  # type: ignore[arg-type]

    return run_before


def test_gpu_one_gpu_after_a_minute(snap_compare: Snap) -> None:
    """One H100 under the demo's server, with a minute of readings in the sparklines."""
    clock = ManualClock()
    app = demo_app(clock=clock, gpu_count=1)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_gpu_history(clock, 60, "gpu"))


def test_gpu_eight_gpus_at_80x24(snap_compare: Snap) -> None:
    clock = ManualClock()
    app = demo_app(clock=clock, gpu_count=8)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_gpu_history(clock, 20, "gpu"))


def test_strip_of_eight_gpus_on_the_launch_screen_at_80x24(snap_compare: Snap) -> None:
    clock = ManualClock()
    app = demo_app(clock=clock, gpu_count=8)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_gpu_history(clock, 1, "launch"))


@pytest.mark.fault("nvml-missing")
def test_gpu_with_nvml_missing(snap_compare: Snap) -> None:
    import pynvml

    from vtui.backends.gpu.nvml import NvmlGpus
    from vtui.backends.gpu.simulated_nvml import SimulatedNvml

    app = demo_app()
    faults = {"nvmlInit": pynvml.NVML_ERROR_LIBRARY_NOT_FOUND}
    app.backends.gpu = NvmlGpus(SimulatedNvml(lambda: (), faults=faults))
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_screen("gpu"))


class OlderServer:
    """The demo's endpoint, but its /metrics without the figures an older or other server
    lacks: the panel shows N/A for those and the rest as usual."""

    def __init__(self, inner: ChatEndpoint, dropped: tuple[str, ...]) -> None:
        self.inner, self.base_url, self.dropped = inner, inner.base_url, dropped

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def metrics_text(self) -> str | None:
        text = self.inner.metrics_text()
        if text is None or not self.dropped:
            return None
        return "".join(
            line
            for line in text.splitlines(keepends=True)
            if not any(name in line for name in self.dropped)
        )


@pytest.mark.parametrize(
    "dropped",
    [("inter_token_latency", "prefix_cache", "num_requests_waiting"), ()],
    ids=["older-server", "no-metrics"],
)
def test_server_serving_figures_of_other_servers(
    snap_compare: Snap, dropped: tuple[str, ...]
) -> None:
    app = demo_app()
    real = app.backends.endpoint_for
    app.backends.endpoint_for = lambda d: OlderServer(real(d), dropped)  # type: ignore[assignment,return-value]
    assert snap_compare(app, terminal_size=(120, 24), run_before=open_screen("server"))


def test_server_load_test_dialog_names_a_bad_setting(snap_compare: Snap) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_screen("server")(pilot)
        await pilot.press("b")
        await settle(pilot.app)  # type: ignore[arg-type]
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        pilot.app.screen.query_one("#load-concurrency", Input).value = "2000"
        await pilot.press("enter")
        await settle(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(demo_app(), terminal_size=(120, 40), run_before=run_before)


def test_server_with_two_hosts_a_remote_one_chosen(snap_compare: Snap) -> None:
    """The demo with a simulated second host: a Host column, grouped by host, and the
    header naming host/container for the remote one."""
    from vtui.backends.registry import demo_backends

    app = VtuiApp(demo_backends(7, ManualClock(), token_delay=0, remote_hosts=1), live=False)
    app.clock = TickingClock()

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_screen("server")(pilot)
        pilot.app.screen.query_one("#deployments", DataTable).move_cursor(row=1)
        await settle(pilot.app)  # type: ignore[arg-type]
        await settle(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def _two_host_app() -> VtuiApp:
    from vtui.backends.registry import demo_backends

    app = VtuiApp(demo_backends(7, ManualClock(), token_delay=0, remote_hosts=1), live=False)
    app.clock = TickingClock()
    return app


def test_gpu_screen_of_a_remote_host(snap_compare: Snap) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_screen("gpu")(pilot)
        await pilot.press("escape", "h")
        await settle(pilot.app)  # type: ignore[arg-type]
        await settle(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(_two_host_app(), terminal_size=(120, 40), run_before=run_before)


def test_fleet_of_two_hosts(snap_compare: Snap) -> None:
    import asyncio

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_screen("gpu")(pilot)
        await pilot.press("escape", "F")
        for _ in range(100):
            await settle(pilot.app)  # type: ignore[arg-type]
            if getattr(pilot.app.screen, "rows", None) is not None:
                break
            await asyncio.sleep(0.05)
        await settle(pilot.app)  # type: ignore[arg-type]

    assert snap_compare(_two_host_app(), terminal_size=(100, 30), run_before=run_before)
