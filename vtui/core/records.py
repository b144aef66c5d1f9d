"""Plain records that cross the line between backends and UI.

Every figure a backend may be unable to read is Optional: None means
"not available" and is shown as N/A, never as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from vtui.core.labels import GROUP as GROUP_LABEL
from vtui.core.labels import MANAGED as MANAGED_LABEL
from vtui.core.labels import NODE as NODE_LABEL
from vtui.core.labels import PROFILE as PROFILE_LABEL
from vtui.core.labels import RUNTIME as RUNTIME_LABEL


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    name: str
    memory_used_mib: int | None
    # The container the process runs in, when the engine knows it (vtui's or a vLLM one).
    container_id: str | None = None
    container_name: str | None = None


@dataclass(frozen=True)
class MigInstance:
    """One MIG slice of a GPU: its own memory and processes, no utilization of its own."""

    gpu_instance: int | None
    uuid: str | None
    name: str
    memory_used_mib: int | None
    memory_total_mib: int | None
    processes: tuple[GpuProcess, ...] = ()


@dataclass(frozen=True)
class GpuReading:
    index: int
    name: str
    memory_used_mib: int | None
    memory_total_mib: int | None
    utilization_pct: int | None
    temperature_c: int | None
    power_w: float | None
    power_limit_w: float | None
    processes: tuple[GpuProcess, ...] = ()
    compute_capability: tuple[int, int] | None = None
    # Memory the driver keeps back (NVML v2); total less this is what CUDA calls total.
    memory_reserved_mib: int | None = None
    uuid: str | None = None
    memory_free_mib: int | None = None
    sm_clock_mhz: int | None = None
    memory_clock_mhz: int | None = None
    fan_pct: int | None = None  # None on GPUs without a fan NVML can read (H100 SXM)
    mig_enabled: bool | None = None
    mig: tuple[MigInstance, ...] = ()
    # Why this GPU has no figures (it fell off the bus, say); None when it answered.
    problem: str | None = None

    @property
    def all_processes(self) -> tuple[GpuProcess, ...]:
        """The processes on the whole GPU and on each of its MIG slices."""
        return (*self.processes, *(p for m in self.mig for p in m.processes))

    @property
    def cuda_total_mib(self) -> int | None:
        if self.memory_total_mib is None:
            return None
        return self.memory_total_mib - (self.memory_reserved_mib or 0)


@dataclass(frozen=True)
class GpuSnapshot:
    driver_version: str | None
    cuda_version: str | None
    gpus: tuple[GpuReading, ...]


@dataclass(frozen=True)
class ModelSummary:
    repo_id: str
    pipeline_tag: str | None
    downloads: int | None
    likes: int | None
    params_billions: float | None
    size_bytes: int | None
    max_context: int | None = None
    quant: str | None = None  # "AWQ", "GPTQ", "FP8", "bnb", "GGUF", ...; None: full precision
    gated: str | None = None  # "auto" or "manual" when the terms must be accepted first
    last_modified: str | None = None  # ISO date, "2025-04-29"
    has_safetensors: bool = True


@dataclass(frozen=True)
class ModelCheckpoint:
    """What the fit check reads of a model: its config.json and its tensors' sizes."""

    model: str
    source: str  # where vtui read it, in words: "Hub", "HF cache", "directory /data/m"
    config: Mapping[str, Any]
    # Parameters per safetensors dtype ("BF16": 8030261248); empty when unknown.
    dtype_parameters: Mapping[str, int] = field(default_factory=dict)


class ContainerState(StrEnum):
    CREATED = "created"
    STARTING = "starting"
    RUNNING = "running"
    UNHEALTHY = "unhealthy"
    STOPPING = "stopping"
    EXITED = "exited"
    DEAD = "dead"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Deployment:
    """A vLLM container: one of vtui's (it carries vtui's labels) or one found running a
    vLLM image."""

    container_id: str
    name: str
    image: str
    model: str
    state: ContainerState
    host: str
    port: int | None
    exit_code: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    # The arguments vLLM was started with (the container's command).
    command: tuple[str, ...] = ()
    # When this run of the container began, on the engine's clock (None: never started).
    started_at: float | None = None
    oom_killed: bool = False
    # The Docker host whose engine runs it, by name ("local": this machine's).
    engine_host: str = "local"

    @property
    def runtime(self) -> str:
        return self.labels.get(RUNTIME_LABEL, "docker")

    @property
    def managed(self) -> bool:
        return self.labels.get(MANAGED_LABEL) == "true"

    @property
    def profile(self) -> str | None:
        return self.labels.get(PROFILE_LABEL)

    @property
    def worker_role(self) -> str | None:
        """ "worker-N" on a Ray worker vtui started for a head on another host; else None."""
        role = self.labels.get(NODE_LABEL, "")
        return role if self.managed and role.startswith("worker-") else None

    @property
    def group(self) -> str | None:
        """The profile whose nodes this container is one of (several hosts), if any."""
        return self.labels.get(GROUP_LABEL) if NODE_LABEL in self.labels else None

    @property
    def live(self) -> bool:
        return self.state in (
            ContainerState.RUNNING,
            ContainerState.STARTING,
            ContainerState.UNHEALTHY,
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" if self.port is not None else "not published"

    @property
    def base_url(self) -> str | None:
        if self.runtime == "endpoint":
            return self.image  # an attached endpoint's own URL, scheme and path kept
        if self.port is None:
            return None
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"


class LogLine(NamedTuple):
    """One line of a container's log and when the engine received it (ns, engine's clock)."""

    at_ns: int
    text: str


@dataclass(frozen=True)
class RunRequest:
    """What the engine needs to start one vLLM container; rendered from a launch spec."""

    image: str
    name: str
    command: tuple[str, ...]
    host: str
    host_port: int
    container_port: int
    environment: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    # None: no GPU; "all": every GPU; a tuple: those indices.
    gpus: str | tuple[int, ...] | None = None
    # (host path, container path, "ro" or "rw")
    volumes: tuple[tuple[str, str, str], ...] = ()
    ipc_host: bool = True
    # "docker": a container of `image`; "process": `image` is the vllm program and
    # `command` what follows it (`serve MODEL ...`), run on this machine as it is.
    runtime: str = "docker"
    # Replaces the image's entrypoint; `command` follows it (vLLM's arguments, say).
    entrypoint: tuple[str, ...] | None = None
    # The host's network instead of a published port (a Ray cluster's nodes need it): the
    # server listens on host:host_port there itself.
    host_network: bool = False


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str


@dataclass(frozen=True)
class ChatUsage:
    prompt_tokens: int
    completion_tokens: int
