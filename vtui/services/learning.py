"""Every real start vtui follows teaches the next estimate: once vLLM has printed its
budget, the launch's key, vtui's estimate for it and vLLM's figures go into the
calibration store (`vtui probe` records its own). Never in the way: anything it cannot
read (the profile, the model, the GPUs) means no record, never an error."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from vtui.backends.registry import Backends
from vtui.core import labels
from vtui.core.calibration import StartRecord, estimated_of, key_of, measured_from
from vtui.core.errors import BackendUnavailable, ProfileError
from vtui.core.fit_launch import GpuMemory, fit_request, gpu_memory
from vtui.core.kv_cache import GIB
from vtui.core.launch_spec import LaunchSpec
from vtui.core.records import Deployment
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


def memory_for(backends: Backends, spec: LaunchSpec, figures: LoadFigures) -> GpuMemory | None:
    with contextlib.suppress(BackendUnavailable):
        found = gpu_memory(spec, backends.gpu.snapshot().gpus)
        if found is not None:
            return found
    if figures.total_gib:  # no NVML here: the total vLLM itself saw
        return GpuMemory(int(figures.total_gib * GIB), 1, "")
    return None


def learn_from_start(backends: Backends, deployment: Deployment, figures: LoadFigures) -> None:
    measured = measured_from(figures)
    if measured is None or deployment.profile is None:
        return
    try:
        spec = backends.profiles().load(deployment.profile)
    except ProfileError:
        return
    memory = memory_for(backends, spec, figures)
    if memory is None:
        return
    try:
        estimate = fit_of(spec, find_model(backends, spec.model), memory)
    except FitUnknown:
        estimate = None
    request = fit_request(spec, memory)
    record = StartRecord(
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        source="launch",
        key=key_of(spec.model, request),
        vllm_version=figures.vllm_version or "",
        runner=figures.runner or "",
        max_model_len=figures.context_tokens or request.max_model_len,
        utilization=figures.utilization or request.utilization,
        measured=measured,
        estimated=None if estimate is None else estimated_of(estimate),
    )
    with contextlib.suppress(OSError):
        backends.calibration().add(record)
