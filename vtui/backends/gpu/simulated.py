"""The demo's GPUs: two H100 80GB whose memory and load follow the simulated server."""

from __future__ import annotations

from vtui.backends.demo_world import GPU_COUNT, GPU_NAME, GPU_RESERVED_MIB, GPU_TOTAL_MIB, DemoWorld
from vtui.core.records import ContainerState, GpuProcess, GpuReading, GpuSnapshot


class SimulatedGpus:
    label = "simulated NVML"

    def __init__(self, world: DemoWorld) -> None:
        self.world = world

    def snapshot(self) -> GpuSnapshot:
        used = self.world.gpu_memory_used_mib()
        rng = self.world.next_sample_rng()
        serving = {
            d.container_id
            for d in self.world.deployments()
            if d.state in (ContainerState.RUNNING, ContainerState.STARTING)
        }
        gpus = []
        for i in range(GPU_COUNT):
            busy = used[i] > 1024
            util = rng.randint(35, 92) if busy else 0
            processes = (
                (GpuProcess(pid=4120 + i, name="VLLM::EngineCore", memory_used_mib=used[i] - 4),)
                if busy and serving
                else ()
            )
            gpus.append(
                GpuReading(
                    index=i,
                    name=GPU_NAME,
                    memory_used_mib=used[i],
                    memory_total_mib=GPU_TOTAL_MIB,
                    utilization_pct=util,
                    temperature_c=(48 + util // 6) if busy else 31 + i,
                    power_w=round(118.0 + util * 4.9, 1) if busy else 71.5 + i,
                    power_limit_w=700.0,
                    processes=processes,
                    compute_capability=(9, 0),
                    memory_reserved_mib=GPU_RESERVED_MIB,
                )
            )
        return GpuSnapshot(driver_version="580.95.05", cuda_version="13.0", gpus=tuple(gpus))

    def close(self) -> None:
        pass
