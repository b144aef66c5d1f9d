"""`vtui doctor` and the Doctor panel: gather every fact about this machine at once (each
with its own deadline, so one slow system does not hold up the rest) and decide."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from vtui.core.doctor import (
    DiskFacts,
    DoctorReport,
    EngineFacts,
    GpuFacts,
    GpuRun,
    MachineFacts,
    diagnose,
)
from vtui.core.errors import BackendUnavailable
from vtui.core.vllm_release import CONTAINER_PORT, DEFAULT_IMAGE, VLLM_IMAGE

if TYPE_CHECKING:
    from vtui.backends.gpu import GpuMonitor
    from vtui.backends.registry import Backends


def gpu_facts(gpu: GpuMonitor) -> GpuFacts:
    try:
        snapshot = gpu.snapshot()
    except BackendUnavailable as exc:
        return GpuFacts(problem=exc.reason)
    except Exception as exc:  # a driver gone wrong says so, never a traceback
        return GpuFacts(problem=f"NVML failed: {type(exc).__name__}")
    readings = snapshot.gpus
    return GpuFacts(
        count=len(readings),
        driver=snapshot.driver_version,
        total_bytes=sum((g.memory_total_mib or 0) << 20 for g in readings),
        problem="" if readings else "NVML answers but lists no GPU",
    )


def image_to_try(engine: EngineFacts, pinned: str) -> str | None:
    """The image a GPU container is tried in: the pinned vLLM image, else another vLLM or
    CUDA image already here; None when none is (the doctor pulls nothing)."""
    if pinned in engine.images:
        return pinned
    for tag in engine.images:
        if tag.startswith((f"{VLLM_IMAGE}:", "nvidia/cuda:")):
            return tag
    return None


def gather(
    backends: Backends,
    gated_repo: str | None = None,
    port: int = CONTAINER_PORT,
    try_gpu_container: bool = True,
) -> MachineFacts:
    machine = backends.machine

    def engine_then_gpu_run() -> tuple[EngineFacts, GpuRun]:
        engine = machine.engine()
        image = image_to_try(engine, DEFAULT_IMAGE) if engine.version is not None else None
        if not try_gpu_container:
            return engine, GpuRun(image=None, output="skipped (--no-gpu-run)")
        return engine, machine.gpu_run(image) if image else GpuRun(image=None)

    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="vtui-doctor") as pool:
        engine_job = pool.submit(engine_then_gpu_run)
        gpus_job = pool.submit(gpu_facts, backends.gpu)
        hub_job = pool.submit(machine.hub, gated_repo)
        cache_job = pool.submit(machine.disk, "HF cache", machine.hf_cache())
        distro_job = pool.submit(machine.distro)
        shm_job = pool.submit(machine.shm_bytes)
        port_job = pool.submit(backends.port_in_use, "127.0.0.1", port)
        engine, run = engine_job.result()
        disks: list[DiskFacts] = [cache_job.result()]
        if engine.data_root:
            disks.append(machine.disk("Docker root", engine.data_root))
        return MachineFacts(
            distro=distro_job.result(),
            engine=engine,
            gpu_run=run,
            gpus=gpus_job.result(),
            disks=tuple(disks),
            hub=hub_job.result(),
            port=port,
            port_free=not port_job.result(),
            shm_bytes=shm_job.result(),
            pinned_image=DEFAULT_IMAGE,
            demo=backends.demo,
        )


def examine(
    backends: Backends,
    gated_repo: str | None = None,
    port: int = CONTAINER_PORT,
    try_gpu_container: bool = True,
) -> DoctorReport:
    return diagnose(gather(backends, gated_repo, port, try_gpu_container))
