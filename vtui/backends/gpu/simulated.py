"""The demo's GPUs: H100 80GB cards whose memory and load follow the simulated server.

The figures go through the real NVML backend, over a stand-in pynvml module, so the demo
shows what the same code shows on a GPU box.
"""

from __future__ import annotations

from vtui.backends.gpu.nvml import NvmlGpus
from vtui.backends.gpu.simulated_nvml import SimGpu, SimProcess, SimulatedNvml
from vtui.sim.demo_world import GPU_NAME, GPU_RESERVED_MIB, GPU_TOTAL_MIB, DemoWorld

IDLE_SM_MHZ = 345
BUSY_SM_MHZ = 1980
HBM3_CLOCK_MHZ = 2619


def demo_gpus(world: DemoWorld) -> list[SimGpu]:
    """Every demo GPU now: memory from the world's containers, load drawn from its seed."""
    rng = world.next_sample_rng()
    gpus = []
    for i, load in enumerate(world.gpu_loads()):
        busy = any(name.startswith("VLLM") for _, name, _ in load.processes)
        util = rng.randint(35, 92) if busy else 0
        gpus.append(
            SimGpu(
                name=GPU_NAME,
                total_mib=GPU_TOTAL_MIB,
                reserved_mib=GPU_RESERVED_MIB,
                used_mib=load.used_mib,
                utilization_pct=util,
                memory_utilization_pct=util // 2,
                temperature_c=(48 + util // 6) if busy else 31 + i,
                power_mw=round((118.0 + util * 4.9) * 1000) if busy else 71_500 + 1000 * i,
                sm_clock_mhz=BUSY_SM_MHZ if busy else IDLE_SM_MHZ,
                memory_clock_mhz=HBM3_CLOCK_MHZ,
                processes=tuple(SimProcess(pid, name, mib) for pid, name, mib in load.processes),
                uuid_seed=world.seed,
            )
        )
    return gpus


def simulated_gpus(world: DemoWorld) -> NvmlGpus:
    return NvmlGpus(SimulatedNvml(lambda: demo_gpus(world)), label="simulated NVML")
