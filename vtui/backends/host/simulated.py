"""The demo machine's facts for `vtui doctor`: the demo world's engine and Hub, which are
always there, said to be simulated."""

from __future__ import annotations

from vtui.core.doctor import DiskFacts, EngineFacts, GpuRun, HubFacts
from vtui.core.doctor_fixes import Distro
from vtui.core.units import plural
from vtui.core.vllm_release import DEFAULT_IMAGE

DEMO_FREE_DISK = 1_800 * 10**9


class DemoMachine:
    def __init__(self, gpu_count: int) -> None:
        self._gpu_count = gpu_count

    def distro(self) -> Distro:
        return Distro("debian", (), "the demo's simulated Debian 12")

    def engine(self) -> EngineFacts:
        return EngineFacts(
            where="the demo world",
            version="simulated",
            runtimes=("nvidia", "runc"),
            default_runtime="runc",
            data_root="/var/lib/docker",
            images=(DEFAULT_IMAGE,),
        )

    def gpu_run(self, image: str | None) -> GpuRun:
        return GpuRun(
            image, ok=True, output=f"nvidia-smi -L lists {plural(self._gpu_count, 'GPU')}"
        )

    def disk(self, label: str, path: str) -> DiskFacts:
        return DiskFacts(label, path, DEMO_FREE_DISK)

    def hub(self, gated_repo: str | None) -> HubFacts:
        return HubFacts("the demo's simulated Hub", True, token_present=False,
                        gated_repo=gated_repo, gated_problem=None)  # fmt: skip

    def shm_bytes(self) -> int | None:
        return 64 << 30

    def hf_cache(self) -> str:
        return "~/.cache/huggingface/hub (simulated)"
