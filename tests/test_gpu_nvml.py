"""The real NVML backend on a real GPU (run on a lent GPU machine; skips where there is none)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from vtui.backends.gpu.nvml import NvmlGpus
from vtui.core.errors import BackendUnavailable

pytestmark = pytest.mark.gpu
MIB = 1024 * 1024


@pytest.fixture
def nvml() -> Iterator[NvmlGpus]:
    gpus = NvmlGpus()
    try:
        gpus.snapshot()
    except BackendUnavailable as exc:
        pytest.skip(f"no NVIDIA GPU here: {exc.reason}")
    yield gpus
    gpus.close()


def test_every_gpu_reads_with_sane_figures(nvml: NvmlGpus) -> None:
    snap = nvml.snapshot()
    print(snap)
    assert snap.gpus, "NVML started but listed no GPU"
    assert snap.driver_version
    for gpu in snap.gpus:
        assert gpu.name and gpu.name != "N/A"
        assert gpu.memory_total_mib is not None and gpu.memory_total_mib > 1024
        assert gpu.memory_used_mib is not None and 0 <= gpu.memory_used_mib <= gpu.memory_total_mib
        assert gpu.utilization_pct is None or 0 <= gpu.utilization_pct <= 100
        assert gpu.temperature_c is None or 0 < gpu.temperature_c < 120
        assert gpu.power_w is None or gpu.power_w > 0


def test_memory_used_follows_an_allocation(nvml: NvmlGpus) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA device")
    torch.cuda.init()
    before = nvml.snapshot().gpus[0].memory_used_mib
    block = torch.empty(4 * 1024 * MIB, dtype=torch.uint8, device="cuda:0")
    torch.cuda.synchronize()
    grown = 0
    for _ in range(20):
        after = nvml.snapshot().gpus[0].memory_used_mib
        assert before is not None and after is not None
        grown = after - before
        if grown >= 4000:
            break
        time.sleep(0.1)
    print(f"GPU 0 memory used grew by {grown} MiB for a 4096 MiB allocation")
    assert grown >= 4000
    del block
    torch.cuda.empty_cache()
