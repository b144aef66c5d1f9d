"""The real NVML backend's code paths, over a pynvml stand-in that fails the way NVML does.

NvmlGpus runs unchanged; only the library under it is simulated. Faults are the real
pynvml error classes (NVMLError_LibraryNotFound, NVMLError_GpuIsLost, ...).
"""

from __future__ import annotations

import pynvml
import pytest

from vtui.backends.gpu.nvml import NvmlGpus
from vtui.backends.gpu.simulated_nvml import SimGpu, SimMig, SimProcess, SimulatedNvml
from vtui.core.errors import BackendUnavailable

H100 = SimGpu(used_mib=20_480, utilization_pct=63, processes=(SimProcess(51, "python3", 20_480),))


def monitor(*gpus: SimGpu, **options: object) -> tuple[NvmlGpus, SimulatedNvml]:
    library = SimulatedNvml(lambda: gpus, **options)  # type: ignore[arg-type]
    return NvmlGpus(library), library


def test_v2_memory_keeps_the_drivers_reserve_out_of_used() -> None:
    gpus, _ = monitor(H100)
    (gpu,) = gpus.snapshot().gpus
    assert gpu.memory_used_mib == 20_480
    assert gpu.memory_reserved_mib == 480
    assert gpu.memory_total_mib == 81_559
    assert gpu.memory_free_mib == 81_559 - 480 - 20_480
    assert gpu.cuda_total_mib == 81_079  # what torch.cuda.mem_get_info calls total


def test_a_driver_without_the_v2_call_falls_back_to_v1() -> None:
    gpus, _ = monitor(H100, memory_v2=False)
    (gpu,) = gpus.snapshot().gpus
    assert gpu.memory_used_mib == 20_480 + 480  # v1 counts the reserve as used
    assert gpu.memory_reserved_mib is None


def test_every_figure_is_read() -> None:
    gpus, _ = monitor(H100)
    snap = gpus.snapshot()
    (gpu,) = snap.gpus
    assert (snap.driver_version, snap.cuda_version) == ("580.95.05", "13.0")
    assert gpu.name == "NVIDIA H100 80GB HBM3"
    assert gpu.uuid is not None and gpu.uuid.startswith("GPU-")
    assert gpu.utilization_pct == 63
    assert gpu.temperature_c == 31
    assert (gpu.power_w, gpu.power_limit_w) == (71.5, 700.0)
    assert (gpu.sm_clock_mhz, gpu.memory_clock_mhz) == (345, 2619)
    assert gpu.compute_capability == (9, 0)
    assert gpu.mig_enabled is False and gpu.mig == ()
    assert [(p.pid, p.name, p.memory_used_mib) for p in gpu.processes] == [(51, "python3", 20_480)]


def test_not_supported_is_absent_not_an_error() -> None:
    """An H100 has no fan NVML can read: NVMLError_NotSupported, shown as nothing."""
    gpus, library = monitor(H100)
    library.faults["nvmlDeviceGetPowerUsage"] = pynvml.NVML_ERROR_NOT_SUPPORTED
    (gpu,) = gpus.snapshot().gpus
    assert gpu.fan_pct is None
    assert gpu.power_w is None
    assert gpu.memory_used_mib == 20_480 and gpu.problem is None


def test_a_fan_is_read_where_there_is_one() -> None:
    gpus, _ = monitor(SimGpu(name="NVIDIA L40S", fan_pct=41))
    assert gpus.snapshot().gpus[0].fan_pct == 41


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "no NVIDIA driver here: libnvidia-ml.so.1"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "the NVIDIA kernel driver is not loaded"),
        (pynvml.NVML_ERROR_LIB_RM_VERSION_MISMATCH, "driver/library version mismatch"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "permission denied by the NVIDIA driver"),
    ],
    ids=["library-not-found", "driver-not-loaded", "version-mismatch", "no-permission"],
)
@pytest.mark.fault("nvml-missing")
def test_nvml_that_cannot_start_says_why_and_is_tried_again(code: int, words: str) -> None:
    gpus, library = monitor(H100, faults={"nvmlInit": code})
    with pytest.raises(BackendUnavailable) as failed:
        gpus.snapshot()
    assert failed.value.reason.startswith(words)
    with pytest.raises(BackendUnavailable):
        gpus.snapshot()
    assert library.init_calls == 2  # each reading tries again
    del library.faults["nvmlInit"]  # the driver is back
    assert gpus.snapshot().gpus[0].memory_used_mib == 20_480


@pytest.mark.fault("gpu-lost")
def test_a_lost_gpu_says_so_and_the_others_go_on() -> None:
    gpus, _ = monitor(H100, SimGpu(lost=True), SimGpu(used_mib=9_000))
    first, lost, third = gpus.snapshot().gpus
    assert first.memory_used_mib == 20_480 and first.problem is None
    assert lost.problem is not None and lost.problem.startswith("the GPU is lost")
    assert "nvidia-smi -r" in lost.problem
    assert lost.memory_used_mib is None and lost.processes == ()
    assert third.memory_used_mib == 9_000


@pytest.mark.fault("gpu-lost")
def test_a_gpu_lost_between_two_reads_of_one_snapshot() -> None:
    """The handle came, then a later call found the GPU gone: lost, not N/A."""
    gpus, library = monitor(H100)
    library.faults["nvmlDeviceGetUtilizationRates"] = pynvml.NVML_ERROR_GPU_IS_LOST
    (gpu,) = gpus.snapshot().gpus
    assert gpu.problem is not None and "lost" in gpu.problem
    assert gpu.utilization_pct is None


@pytest.mark.fault("gpu-lost")
def test_a_driver_that_goes_away_mid_run_is_reopened() -> None:
    gpus, library = monitor(H100)
    gpus.snapshot()
    library.faults["nvmlDeviceGetCount"] = pynvml.NVML_ERROR_UNKNOWN
    with pytest.raises(BackendUnavailable) as failed:
        gpus.snapshot()
    assert "Unknown Error" in failed.value.reason
    assert not library.initialised  # shut down, to start afresh
    del library.faults["nvmlDeviceGetCount"]
    assert gpus.snapshot().gpus[0].utilization_pct == 63
    assert library.init_calls == 2


def test_mig_slices_are_listed_with_their_memory_and_processes() -> None:
    slices = (
        SimMig(
            1,
            "NVIDIA H100 80GB HBM3 MIG 3g.40gb",
            40_192,
            12_000,
            (SimProcess(77, "vllm", 11_900),),
        ),
        SimMig(2, "NVIDIA H100 80GB HBM3 MIG 3g.40gb", 40_192, 0),
    )
    gpus, _ = monitor(SimGpu(mig=slices))
    (gpu,) = gpus.snapshot().gpus
    assert gpu.mig_enabled is True
    assert [(m.gpu_instance, m.memory_used_mib, m.memory_total_mib) for m in gpu.mig] == [
        (1, 12_000, 40_192),
        (2, 0, 40_192),
    ]
    assert gpu.mig[0].uuid is not None and gpu.mig[0].uuid.startswith("MIG-")
    assert [(p.pid, p.name) for p in gpu.mig[0].processes] == [(77, "vllm")]


def test_process_names_are_programs_not_command_lines() -> None:
    proc = SimProcess(9, "/usr/bin/python3 -m vllm.entrypoints.openai.api_server", 100)
    gpus, _ = monitor(SimGpu(processes=(proc, SimProcess(10, "VLLM::EngineCore", None))))
    names = [(p.name, p.memory_used_mib) for p in gpus.snapshot().gpus[0].processes]
    assert names == [("python3", 100), ("VLLM::EngineCore", None)]


@pytest.mark.fault("nvml-missing")
def test_this_machine_without_a_driver_says_so() -> None:
    """The real pynvml on the CI machine, which has no NVIDIA driver."""
    gpus = NvmlGpus()
    try:
        snap = gpus.snapshot()
    except BackendUnavailable as exc:
        assert exc.reason.startswith("no NVIDIA driver here")
    else:
        pytest.skip(f"this machine has {len(snap.gpus)} GPU(s)")
    finally:
        gpus.close()
