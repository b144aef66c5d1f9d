"""The GPU strip on every screen and the GPU screen, driven as a person sees them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

import pynvml
import pytest
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable

from tests.support.helpers import ManualClock, demo, demo_app
from vtui.backends.gpu.nvml import NvmlGpus
from vtui.backends.gpu.simulated_nvml import SimGpu, SimProcess, SimulatedNvml
from vtui.core.records import GpuSnapshot
from vtui.ui.app import SCREENS, VtuiApp
from vtui.ui.headless import settle
from vtui.ui.screens.gpu import GpuScreen
from vtui.ui.widgets.gpu_panels import GpuPanels
from vtui.ui.widgets.gpu_strip import GpuStrip
from vtui.ui.widgets.notice import Notice


def text_of(widget: Widget) -> str:
    region = Region(0, 0, widget.outer_size.width, widget.outer_size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


def rows_of(table: DataTable[str]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def poll(app: VtuiApp) -> None:
    app.poll_gpus()
    await settle(app)


async def test_every_screen_shows_8_gpus_in_two_lines_at_80x24() -> None:
    app = demo_app(gpu_count=8)
    async with app.run_test(size=(80, 24)):
        await settle(app)
        for mode, *_ in SCREENS:
            await app.switch_mode(mode)
            await settle(app)
            if mode == "gpu":
                assert not app.screen.query(GpuStrip)
                continue
            strip = app.screen.query_one(GpuStrip)
            lines = text_of(strip).splitlines()
            assert len(lines) == 2, (mode, lines)
            labels = [n for line in lines for n in re.findall(r" (\d) [\u2588\u2591]", line)]
            assert labels == [str(i) for i in range(8)]
            assert "72/80G" in lines[0]  # GPU 0 holds the demo's server


async def test_gpu_screen_splits_memory_and_names_the_containers() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)):
        await settle(app)
        await app.switch_mode("server")  # the Server screen chooses the deployment
        await settle(app)
        await app.switch_mode("gpu")
        await settle(app)
        panels = text_of(app.screen.query_one(GpuPanels))
        assert "GPU 0 NVIDIA H100 80GB HBM3  util" in panels
        assert (
            "vtui-qwen2.5-7b-instruct 71.7 \u00b7 driver 0.5 \u00b7 free 7.5 of 79.6 GiB" in panels
        )
        # GPU 1: a notebook's 1.5 GiB "used", as the strip counts it; the reserve apart.
        assert "used 1.5 \u00b7 driver 0.5 \u00b7 free 77.7 of 79.6 GiB" in panels
        from vtui.core.gpu_layout import strip_cell

        snapshot = app.gpu_snapshot
        assert snapshot is not None  # and the strip says the same "used" of the same GPU
        assert strip_cell(snapshot.gpus[1], 60).memory == "1.5/79.6 GiB"
        assert "SM 1980 MHz" in panels and "fan" not in panels  # an H100 has no fan to read
        rows = rows_of(app.screen.query_one("#gpu-processes", DataTable))
        assert rows == [
            ["0", "4101", "VLLM::EngineCore", "\u25cf vtui-qwen2.5-7b-instruct", "71.7 GiB"],
            ["1", "2231", "python3", "-", "1.5 GiB"],
        ]


async def test_sparklines_fill_with_each_reading_and_the_server_stopping_shows() -> None:
    clock = ManualClock()
    app = demo_app(clock=clock)
    async with app.run_test(size=(120, 40)):
        await settle(app)
        await app.switch_mode("gpu")
        await settle(app)
        for _ in range(9):
            clock.advance(1)
            await poll(app)
        app.backends.engine.stop(app.deployments[0].container_id)
        clock.advance(1)
        await poll(app)
        memory_line = next(
            line
            for line in text_of(app.screen.query_one(GpuPanels)).splitlines()
            if "memory" in line
        )
        spark = memory_line.split("memory", 1)[1].split("util")[0].strip()
        assert len(spark) == 11  # one block per reading: the first, 9, and the last
        assert spark[:-1] == "\u2587" * 10 and spark[-1] == "\u2581"  # 90 % held, then freed
        rows = rows_of(app.screen.query_one("#gpu-processes", DataTable))
        assert ["0", "4101", "VLLM::EngineCore"] not in [r[:3] for r in rows]


def faulty_backends(gpus: Sequence[SimGpu], **faults: int) -> tuple[VtuiApp, SimulatedNvml]:
    backends = demo()
    library = SimulatedNvml(lambda: gpus, faults=dict(faults))
    backends.gpu = NvmlGpus(library)
    return VtuiApp(backends, live=False), library


@pytest.mark.fault("nvml-missing")
async def test_no_driver_is_said_in_words_and_vtui_recovers_when_it_comes_back() -> None:
    app, library = faulty_backends(
        [SimGpu(used_mib=30_000)], nvmlInit=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND
    )
    async with app.run_test(size=(80, 24)):
        await settle(app)
        strip = text_of(app.screen.query_one(GpuStrip))
        assert strip.startswith(" GPU N/A no NVIDIA driver here: libnvidia-ml.so.1 was not")
        await app.switch_mode("gpu")
        await settle(app)
        notice = app.screen.query_one(Notice)
        assert notice.display and "everything else works without them" in text_of(notice)
        del library.faults["nvmlInit"]
        await poll(app)
        assert not notice.display
        # 30,000 MiB used and the 480 MiB reserve, of 81,559
        shown = text_of(app.screen.query_one(GpuPanels))
        assert "used 29.3 \u00b7 driver 0.5 \u00b7 free 49.9 of 79.6 GiB" in shown


@pytest.mark.fault("gpu-lost")
async def test_a_gpu_lost_mid_run_is_named_while_the_others_go_on() -> None:
    gpus = [SimGpu(used_mib=30_000, utilization_pct=70), SimGpu(used_mib=10_000)]
    app, _ = faulty_backends(gpus)
    async with app.run_test(size=(120, 40)):
        await settle(app)
        gpus[1] = SimGpu(lost=True)
        await poll(app)
        strip = text_of(app.screen.query_one(GpuStrip))
        assert "GPU0" in strip and "29.3/79.6 GiB" in strip and " 70%" in strip
        assert "GPU1 the GPU is lost" in strip
        await app.switch_mode("gpu")
        await settle(app)
        panels = text_of(app.screen.query_one(GpuPanels))
        assert "GPU 1 lost: the GPU is lost (it fell off the bus)" in panels
        assert "GPU 0 NVIDIA H100 80GB HBM3" in panels


async def test_an_unexpected_failure_is_shown_not_raised() -> None:
    class Broken:
        label = "broken"

        def snapshot(self) -> GpuSnapshot:
            raise RuntimeError("boom")

        def close(self) -> None:
            pass

    backends = demo()
    backends.gpu = Broken()
    app = VtuiApp(backends, live=False)
    async with app.run_test(size=(80, 24)):
        await settle(app)
        assert "reading the GPUs failed: RuntimeError('boom')" in text_of(
            app.screen.query_one(GpuStrip)
        )
        assert app.is_running


async def test_the_gpus_are_read_at_the_chosen_interval() -> None:
    backends = demo()
    backends.gpu = NvmlGpus(SimulatedNvml(lambda: [SimGpu(processes=(SimProcess(5, "x", 1),))]))
    app = VtuiApp(backends, live=True, gpu_interval=0.2)
    async with app.run_test(size=(80, 24)):
        await asyncio.sleep(1.5)
        # ~8 at 0.2 s; a loaded 2-core CI machine may skip turns, never read faster
        assert 3 <= app.gpus_seen <= 9
        await app.switch_mode("gpu")
        await asyncio.sleep(0.5)
        assert isinstance(app.screen, GpuScreen)
        assert "every 0.2 s" in str(app.screen.query_one("#gpu-status").render())


async def test_h_shows_a_remote_host_s_gpus_and_f_sums_up_the_fleet() -> None:
    from vtui.backends.registry import demo_backends
    from vtui.core.errors import EngineUnavailable
    from vtui.core.records import Deployment
    from vtui.ui.widgets.fleet_panel import FleetPanel

    backends = demo_backends(7, ManualClock(), remote_hosts=2)
    assert backends.hosts is not None
    theirs = backends.hosts.remotes["gpu-2"].gpus().snapshot()

    def refuse() -> list[Deployment]:
        raise EngineUnavailable("cannot reach the Docker engine at ssh://demo@gpu-3: refused")

    backends.hosts.remotes["gpu-3"].engine.list_deployments = refuse  # type: ignore[method-assign]
    app = VtuiApp(backends, live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await app.switch_mode("gpu")
        await settle(app)
        await pilot.press("escape", "h")
        await settle(app)
        await settle(app)
        status = str(app.screen.query_one("#gpu-status").render())
        assert "host gpu-2: simulated NVML" in status
        shown = app.gpu_snapshot
        assert shown is not None and app.gpu_host == "gpu-2"
        assert [g.memory_used_mib for g in shown.gpus] == [g.memory_used_mib for g in theirs.gpus]
        # Its processes are named by gpu-2's own containers.
        owners = {p.container_name for g in shown.gpus for p in g.processes} - {None}
        assert owners == {"vtui-qwen2.5-7b-instruct"}

        await pilot.press("F")
        await settle(app)
        panel = app.screen
        assert isinstance(panel, FleetPanel)
        for _ in range(50):
            if panel.rows is not None:
                break
            await asyncio.sleep(0.1)
        assert panel.rows is not None
        rows = {row.host: row for row in panel.rows}
        assert list(rows) == ["local", "gpu-2", "gpu-3"]
        assert rows["local"].gpus == 2 and rows["local"].deployments == 1
        assert rows["gpu-2"].used_mib == sum(g.memory_used_mib or 0 for g in theirs.gpus)
        assert rows["gpu-3"].why is not None and "unreachable" in rows["gpu-3"].why
        text = str(panel.query_one("#fleet-table").render())
        assert "gpu-3" in text and "refused" in text
        await pilot.press("escape", "h", "h")  # gpu-3, then back to this machine
        await settle(app)
        assert app.gpu_host == "local"


async def test_one_host_offers_no_host_keys() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app)
        await app.switch_mode("gpu")
        await settle(app)
        await pilot.press("escape")
        keys = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
        assert "next_host" not in keys and "fleet" not in keys
