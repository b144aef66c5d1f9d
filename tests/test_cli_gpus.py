"""`vtui gpus`: one reading for people and for scripts, and a clear exit without a driver."""

from __future__ import annotations

import json

import pytest

from tests.support.helpers import run_vtui

MIB = 1024 * 1024


def test_json_lists_every_gpu_with_bytes_and_its_processes_containers() -> None:
    out = run_vtui("--demo", "--demo-gpus", "4", "gpus", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [g["index"] for g in report["gpus"]] == [0, 1, 2, 3]
    first = report["gpus"][0]
    assert first["name"] == "NVIDIA H100 80GB HBM3"
    assert first["memory_total_bytes"] == 81_559 * MIB
    assert 0.85 < first["memory_used_bytes"] / first["memory_total_bytes"] < 0.95
    assert 0 <= first["utilization_percent"] <= 100
    assert first["fan_percent"] is None  # not supported on an H100: null, not an error
    (proc,) = first["processes"]
    assert proc["name"] == "VLLM::EngineCore"
    assert proc["container_name"] == "vtui-qwen2.5-7b-instruct"
    notebook = report["gpus"][1]["processes"]
    assert [(p["pid"], p["container_id"]) for p in notebook] == [(2231, None)]


def test_the_table_shows_memory_load_and_processes() -> None:
    out = run_vtui("--demo", "gpus")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == [
        "GPU",
        "NAME",
        "MEMORY",
        "USED",
        "/",
        "TOTAL",
        "UTIL",
        "TEMP",
        "POWER",
    ]
    assert "71.7 GiB / 79.6 GiB (90%)" in lines[1]
    assert "VLLM::EngineCore" in lines[2] and "container vtui-qwen2.5-7b-instruct" in lines[2]
    assert lines[-1] == "driver 580.95.05 \u00b7 CUDA 13.0 \u00b7 simulated NVML"


@pytest.mark.fault("nvml-missing")
def test_without_a_driver_it_says_why_and_exits_1() -> None:
    out = run_vtui("gpus", "--json")
    if out.returncode == 0:
        pytest.skip("this machine has an NVIDIA driver")
    assert out.returncode == 1
    assert json.loads(out.stdout)["error"].startswith("no NVIDIA driver here")
    assert out.stderr.startswith("vtui: error: GPU figures are unavailable: no NVIDIA driver")
    assert "Traceback" not in out.stderr


def test_demo_gpu_count_is_checked() -> None:
    out = run_vtui("--demo", "--demo-gpus", "9", "gpus")
    assert out.returncode == 2
    assert "--demo-gpus" in out.stderr
    out = run_vtui("--gpu-interval", "0", "--demo")
    assert out.returncode == 2 and "at least 0.1 seconds" in out.stderr
