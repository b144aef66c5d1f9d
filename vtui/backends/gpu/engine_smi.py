"""The GPUs of a host vtui reaches only through its Docker engine: nvidia-smi in a short-
lived helper container there (the host's PIDs, every GPU), read by core.smi_csv."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from vtui.backends.engine.docker_engine import DockerEngine
from vtui.core.errors import BackendUnavailable, EngineError
from vtui.core.records import GpuSnapshot
from vtui.core.smi_csv import SmiProblem, parse_smi, smi_command

HELPER_TIMEOUT_S = 30.0  # a cold container with the NVIDIA hook takes some seconds
# A reading this young serves again: the fit, the checks and the GPU screen may all ask
# within a moment, and each fresh one is a container started on that host.
FRESH_S = 4.0


class EngineSmiGpus:
    def __init__(
        self, engine: DockerEngine, host: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine, self.host = engine, host
        self.label = f"nvidia-smi on {host}"
        self._clock = clock
        self._lock = threading.Lock()
        self._last: tuple[float, GpuSnapshot] | None = None

    def snapshot(self) -> GpuSnapshot:
        with self._lock:  # callers at once share one helper container
            if self._last is not None and self._clock() - self._last[0] < FRESH_S:
                return self._last[1]
            snapshot = self._read()
            self._last = (self._clock(), snapshot)
            return snapshot

    def _read(self) -> GpuSnapshot:
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
