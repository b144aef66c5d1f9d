"""The GPUs of a host vtui reaches only through its Docker engine: nvidia-smi in a short-
lived helper container there (the host's PIDs, every GPU), read by core.smi_csv."""

from __future__ import annotations

from vtui.backends.engine.docker_engine import DockerEngine
from vtui.core.errors import BackendUnavailable, EngineError
from vtui.core.records import GpuSnapshot
from vtui.core.smi_csv import SmiProblem, parse_smi, smi_command

HELPER_TIMEOUT_S = 30.0  # a cold container with the NVIDIA hook takes some seconds


class EngineSmiGpus:
    def __init__(self, engine: DockerEngine, host: str) -> None:
        self.engine, self.host = engine, host
        self.label = f"nvidia-smi on {host}"

    def snapshot(self) -> GpuSnapshot:
        try:
            text = self.engine.helper_output(
                "gpu-read",
                ["sh", "-c", smi_command()],
                all_gpus=True,
                host_pid=True,
                timeout=HELPER_TIMEOUT_S,
            )
        except EngineError as exc:
            why = str(exc)
            if "could not select device driver" in why:
                why += (
                    f" (host {self.host}'s engine has no NVIDIA runtime: install the NVIDIA "
                    "Container Toolkit there, then `nvidia-ctk runtime configure`)"
                )
            raise BackendUnavailable(f"cannot read the GPUs of host {self.host}: {why}") from exc
        try:
            return parse_smi(text)
        except SmiProblem as exc:
            raise BackendUnavailable(f"host {self.host}'s nvidia-smi: {exc}") from exc

    def close(self) -> None:
        pass
