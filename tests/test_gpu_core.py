"""The pure parts of the GPU view: containers from cgroups, memory split, layout, history."""

from __future__ import annotations

import json

import pytest

from vtui.core.bars import sparkline, split_cells
from vtui.core.gpu_history import GpuHistory
from vtui.core.gpu_layout import strip_cell, strip_layout
from vtui.core.gpu_owners import attribute, container_in_cgroup, memory_split
from vtui.core.gpu_report import snapshot_json, snapshot_lines
from vtui.core.records import GpuProcess, GpuReading, GpuSnapshot

CID = "68f81572bc0a54f0dc35114cbcd9bde9dab3dd9ebc1237cdf858630413149ae1"


def reading(index: int = 0, used: int = 60_000, util: int | None = 80, **kw: object) -> GpuReading:
    return GpuReading(
        index=index,
        name="NVIDIA H100 80GB HBM3",
        memory_used_mib=used,
        memory_total_mib=81_559,
        utilization_pct=util,
        temperature_c=50,
        power_w=300.0,
        power_limit_w=700.0,
        memory_reserved_mib=480,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "cgroup",
    [
        f"12:memory:/docker/{CID}\n11:pids:/docker/{CID}\n",  # cgroup v1, cgroupfs driver
        f"0::/system.slice/docker-{CID}.scope\n",  # cgroup v2, systemd driver
        f"0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-{CID}.scope\n",
        f"0::/kubepods/burstable/pod3c1b/{CID}\n",
        f"0::/machine.slice/libpod-{CID}.scope\n",  # podman
    ],
    ids=["v1", "systemd", "containerd", "kubepods", "podman"],
)
def test_container_ids_are_found_in_every_runtimes_cgroup(cgroup: str) -> None:
    assert container_in_cgroup(cgroup) == CID


@pytest.mark.parametrize(
    "cgroup",
    ["0::/user.slice/user-1000.slice/session-3.scope\n", "9:name=systemd:/\n", ""],
)
def test_host_processes_have_no_container(cgroup: str) -> None:
    assert container_in_cgroup(cgroup) is None


def test_processes_get_their_containers_name() -> None:
    gpu = reading(
        processes=(GpuProcess(10, "VLLM::EngineCore", 50_000), GpuProcess(11, "python3", 2_000))
    )
    snap = attribute(GpuSnapshot(None, None, (gpu,)), {10: CID}, {CID: "vtui-qwen"})
    vllm, other = snap.gpus[0].processes
    assert (vllm.container_id, vllm.container_name) == (CID, "vtui-qwen")
    assert other.container_id is None


def test_memory_splits_into_the_deployment_others_and_free() -> None:
    gpu = reading(
        used=52_000,
        memory_free_mib=81_559 - 480 - 52_000,
        processes=(
            GpuProcess(10, "VLLM::EngineCore", 50_000, container_id=CID),
            GpuProcess(11, "python3", 2_000),
        ),
    )
    split = memory_split(gpu, CID)
    assert split is not None
    assert (split.deployment, split.others, split.reserved) == (50_000, 2_000, 480)
    assert split.deployment + split.others + split.reserved + split.free == split.total
    nobody = memory_split(gpu, None)
    assert nobody is not None and (nobody.deployment, nobody.others) == (0, 52_000)
    assert memory_split(reading(used=None), CID) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("count", range(1, 9))
def test_the_strip_holds_1_to_8_gpus_in_two_rows_at_80x24(count: int) -> None:
    layout = strip_layout(count, 80, 24)
    assert layout.rows <= 2
    assert layout.columns * layout.rows >= count
    assert layout.columns * layout.cell_width <= 80
    for gpu in range(count):
        cell = strip_cell(reading(gpu), layout.cell_width)
        text = f" {cell.label} {'#' * cell.meter} {cell.memory} {cell.utilization}"
        assert len(text) <= layout.cell_width, text
        assert cell.meter >= 3  # still a meter
        assert cell.utilization.strip() == "80%"


def test_a_wide_strip_puts_two_gpus_side_by_side_with_decimals() -> None:
    layout = strip_layout(2, 120, 40)
    assert (layout.columns, layout.rows) == (2, 1)
    cell = strip_cell(reading(used=73_400), layout.cell_width)
    assert cell.memory == "71.7/79.6 GiB"
    assert cell.filled == round(cell.meter * 73_400 / 81_559)


def test_a_lost_gpu_in_the_strip_shows_its_problem() -> None:
    lost = reading(used=None, problem="the GPU is lost")  # type: ignore[arg-type]
    assert strip_cell(lost, 40).problem == "the GPU is lost"


def test_sparkline_is_newest_on_the_right_with_gaps() -> None:
    assert sparkline([0.0, 0.5, 1.0], 5) == "  \u2581\u2585\u2588"
    assert sparkline([0.0, None, 1.0], 3) == "\u2581 \u2588"
    assert sparkline([0.1] * 10 + [1.0], 2) == "\u2582\u2588"


@pytest.mark.parametrize(
    ("parts", "total", "width"),
    [((50, 2, 28), 80, 20), ((1, 0, 79), 80, 10), ((0, 0, 80), 80, 7), ((79, 1, 0), 80, 3)],
)
def test_split_cells_fill_the_width_and_show_every_part(
    parts: tuple[int, ...], total: int, width: int
) -> None:
    cells = split_cells(parts, total, width)
    assert sum(cells) == width
    assert all(c >= 1 for c, p in zip(cells, parts, strict=True) if p > 0)


def test_history_keeps_the_last_minutes_and_marks_failed_readings() -> None:
    history = GpuHistory(keep=3)
    for used in (10_000, 20_000, 40_000, 80_000):
        history.add(GpuSnapshot(None, None, (reading(used=used),)))
    assert [round(v or 0, 2) for v in history.memory(0)] == [0.25, 0.49, 0.98]
    history.add_gap()
    assert history.memory(0)[-1] is None and history.utilization(0)[-1] is None


def test_json_report_has_bytes_percent_and_processes() -> None:
    gpu = reading(
        uuid="GPU-1", processes=(GpuProcess(10, "VLLM::EngineCore", 1024, CID, "vtui-qwen"),)
    )
    report = json.loads(json.dumps(snapshot_json(GpuSnapshot("580", "13.0", (gpu,)), "NVML")))
    (g,) = report["gpus"]
    assert g["memory_used_bytes"] == 60_000 * 1024 * 1024
    assert g["memory_total_bytes"] == 81_559 * 1024 * 1024
    assert g["utilization_percent"] == 80
    assert g["fan_percent"] is None
    assert g["processes"] == [
        {
            "pid": 10,
            "name": "VLLM::EngineCore",
            "memory_used_bytes": 1024**3,
            "container_id": CID,
            "container_name": "vtui-qwen",
        }
    ]
    lines = snapshot_lines(GpuSnapshot("580", "13.0", (gpu,)), "NVML")
    assert "58.6 GiB / 79.6 GiB (74%)" in lines[1]
    assert "container vtui-qwen" in lines[2]
