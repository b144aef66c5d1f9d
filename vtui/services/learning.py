"""Every real start vtui follows teaches the next estimate: once vLLM has printed its
budget, the launch's key, vtui's estimate for it and vLLM's figures go into the
calibration store (`vtui probe` records its own). Never in the way: anything it cannot
read (the profile, the model, the GPUs) means no record, never an error."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime

from vtui.backends.registry import Backends
from vtui.core import labels
from vtui.core.calibration import StartRecord, estimated_of, key_of, measured_from
from vtui.core.errors import BackendUnavailable, ProfileError
from vtui.core.fit import FitEstimate
from vtui.core.fit_launch import GpuMemory, fit_request, gpu_memory
from vtui.core.kv_cache import GIB
from vtui.core.launch_spec import LaunchSpec
from vtui.core.records import Deployment, GpuReading
from vtui.core.safe_names import UnsafeName
from vtui.core.startup import LoadFigures
from vtui.services.fitting import FitUnknown, find_model, fit_of


def should_learn(backends: Backends, deployment: Deployment) -> bool:
    """Real starts of vtui's own profiles; not the demo's simulated ones, not probes."""
    return (
        not backends.demo
        and deployment.managed
        and deployment.profile is not None
        and labels.PROBE not in deployment.labels
    )


def memory_from(
    spec: LaunchSpec, readings: Sequence[GpuReading], figures: LoadFigures
) -> GpuMemory | None:
    """The GPUs the start ran on, from NVML's reading; where there is none (the
    simulator, a machine without NVML), the total vLLM itself saw."""
    found = gpu_memory(spec, readings) if readings else None
    if found is not None:
        return found
    if figures.total_gib:
        return GpuMemory(int(figures.total_gib * GIB), 1, "")
    return None


def record_start(
    backends: Backends,
    source: str,
    spec: LaunchSpec,
    memory: GpuMemory,
    figures: LoadFigures,
    estimate: FitEstimate | None,
) -> None:
    """One line in the calibration store: the launch's key, vLLM's figures, vtui's
    estimate. Nothing when vLLM printed no budget; a folder that cannot be written (or a
    link planted in it) loses the record, never the start."""
    measured = measured_from(figures)
    if measured is None:
        return
    request = fit_request(spec, memory)
    record = StartRecord(
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=source,
        key=key_of(spec.model, request),
        vllm_version=figures.vllm_version or "",
        runner=figures.runner or "",
        max_model_len=figures.context_tokens or request.max_model_len,
        utilization=figures.utilization or request.utilization,
        measured=measured,
        estimated=None if estimate is None else estimated_of(estimate),
    )
    with contextlib.suppress(OSError, UnsafeName):
        backends.calibration().add(record)


def learn_from_start(backends: Backends, deployment: Deployment, figures: LoadFigures) -> None:
    if measured_from(figures) is None or deployment.profile is None:
        return
    try:
        spec = backends.profiles().load(deployment.profile)
    except ProfileError:
        return
    readings: Sequence[GpuReading] = ()
    with contextlib.suppress(BackendUnavailable):
        readings = backends.gpu.snapshot().gpus
    memory = memory_from(spec, readings, figures)
    if memory is None:
        return
    try:
        estimate: FitEstimate | None = fit_of(spec, find_model(backends, spec.model), memory)
    except FitUnknown:
        estimate = None
    record_start(backends, "launch", spec, memory, figures, estimate)
