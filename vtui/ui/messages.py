"""Messages that carry backend results from worker threads to the app and its screens."""

from __future__ import annotations

from textual.message import Message

from vtui.core.records import Deployment, GpuSnapshot


class DeploymentsRead(Message):
    """A fresh list of vtui's deployments, or the reason none could be read."""

    def __init__(
        self, deployments: list[Deployment], error: str | None, silent_hosts: tuple[str, ...] = ()
    ) -> None:
        super().__init__()
        self.deployments = deployments
        self.error = error
        # Remote hosts that did not answer, each as "NAME: why".
        self.silent_hosts = silent_hosts


class GpusRead(Message):
    """One reading of every GPU, with each process's container, or why NVML gave none."""

    def __init__(
        self,
        snapshot: GpuSnapshot | None,
        error: str | None,
        host: str = "local",
        source: str | None = None,
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.error = error
        self.host = host  # whose GPUs: a reading of another host may still arrive after a switch
        self.source = source  # where the figures came from ("NVML", "nvidia-smi on gpu-2")
