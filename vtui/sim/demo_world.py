"""One simulated GPU box for `--demo` and the tests: two H100s, a vLLM container, its clients.

Every simulated backend reads this shared world, so what they show agrees: the
GPU memory follows the container's state, the endpoint answers only while the
container runs. Same seed and same clock readings, same figures.
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from vtui.core import labels
from vtui.core.errors import EngineError, EngineRefused, NoSuchContainer
from vtui.core.fit import DEFAULT_UTILIZATION
from vtui.core.launch_conflicts import ExistingContainer, replaced_by
from vtui.core.launch_spec import LaunchSpec
from vtui.core.records import ContainerState, Deployment, RunRequest
from vtui.core.vllm_command import flag_number, served_model
from vtui.core.vllm_release import CONTAINER_PORT, DEFAULT_IMAGE
from vtui.sim import catalogue
from vtui.sim.metrics import ServerMetrics
from vtui.sim.traffic import SyntheticTraffic
from vtui.sim.vllm_script import SimServerConfig, plan_memory, render, startup_steps

GPU_NAME = "NVIDIA H100 80GB HBM3"
GPU_TOTAL_MIB = 81559
# What NVML's v2 memory call reports reserved on an H100 80GB HBM3 (read on one with the
# device tool); 81,559 - 480 MiB is exactly the total torch.cuda.mem_get_info gives there.
GPU_RESERVED_MIB = 480
GPU_COUNT = 2
IDLE_MIB = 4
# Someone's notebook on the second GPU: memory that is neither free nor the deployment's.
NOTEBOOK = (1, 2231, "python3", 1536)  # (GPU, PID, process, MiB)
# Log timestamps start here whatever the wall clock says, so screenshots never change.
LOG_EPOCH = datetime(2026, 11, 24, 9, 0, 0)
STARTUP_SECONDS = 12.0
DEMO_MODEL = "Qwen/Qwen2.5-7B-Instruct"
DEMO_PORT = 8000
SHUTDOWN_LINE = "(APIServer pid=1) INFO:     Shutting down"
DEMO_PROFILE = "qwen2.5-7b"


def demo_profile() -> LaunchSpec:
    return LaunchSpec(
        name=DEMO_PROFILE,
        model="Qwen/Qwen2.5-7B-Instruct",
        container_name="vtui-qwen2.5-7b-instruct",
        gpus=(0,),
        hf_cache="/srv/hf-cache",
        args={
            "--gpu-memory-utilization": 0.9,
            "--max-model-len": 32768,
            "--enable-prefix-caching": True,
        },
    )


@dataclass
class SimContainer:
    deployment: Deployment
    config: SimServerConfig
    gpu_indices: tuple[int, ...]
    started_at: float
    log: list[tuple[float, str]]  # this run's script: (seconds after its start, line)
    api_key: str
    stopped_at: float | None = None
    # Lines on the world's clock: what earlier runs wrote, and this run's shutdown message.
    history: list[tuple[float, str]] = field(default_factory=list)
    shutdown: list[tuple[float, str]] = field(default_factory=list)
    pid: int = 0  # the container's first process on the host; its GPU workers follow
    # Its /metrics: the demo's chats and a stream of simulated clients count in them.
    metrics: ServerMetrics | None = None
    traffic: SyntheticTraffic | None = None


@dataclass(frozen=True)
class GpuLoad:
    """One GPU's memory in use and the processes holding it."""

    used_mib: int
    processes: tuple[tuple[int, str, int], ...]  # (PID, process name, MiB)


class DemoWorld:
    def __init__(
        self,
        seed: int = 7,
        clock: Callable[[], float] | None = None,
        gpu_count: int = GPU_COUNT,
        journal: Path | None = None,
    ) -> None:
        """With a `journal`, every run, stop, restart and removal is appended to it and every
        look first replays what other processes appended, so separate `vtui --demo` commands
        share one world; its clock is then the wall clock, the one they share."""
        import time

        if not 1 <= gpu_count <= 8:
            raise ValueError("the demo simulates 1 to 8 GPUs")
        self.gpu_count = gpu_count
        self.seed = seed
        self.clock = clock or (time.time if journal is not None else time.monotonic)
        self._lock = threading.Lock()
        self._containers: dict[str, SimContainer] = {}
        self._samples = 0
        self._runs = 0
        self._ids = random.Random(seed)
        self._journal = journal
        self._read_to = 0  # bytes of the journal already replayed
        self._mine: set[str] = set()  # marks of the entries this world wrote (and applied)
        born = self.clock() if journal is None else self._born()
        self._add(
            RunRequest(
                image=DEFAULT_IMAGE,
                name="vtui-qwen2.5-7b-instruct",
                command=(
                    "--model",
                    "/app/model",
                    "--served-model-name",
                    DEMO_MODEL,
                    "--gpu-memory-utilization",
                    "0.9",
                ),
                host="127.0.0.1",
                host_port=DEMO_PORT,
                container_port=CONTAINER_PORT,
                labels=labels.vtui_labels(DEMO_MODEL, "qwen2.5-7b"),
                gpus=(0,),
            ),
            started_at=born - 3600,
            api_key=f"demo-key-{self._ids.getrandbits(32):08x}",
        )
        self._replay()

    # -- the journal ----------------------------------------------------------------------------

    def _born(self) -> float:
        """When this world began: the journal's first line, written now when it is new."""
        assert self._journal is not None
        if not self._journal.exists():
            self._append({"op": "born", "at": self.clock()})
        try:
            first = json.loads(self._journal.read_text(encoding="utf-8").splitlines()[0])
            return float(first["at"])
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return self.clock()  # a journal vtui cannot read: this world starts afresh

    def _append(self, event: dict[str, Any]) -> None:
        if self._journal is None:
            return
        mark = f"{os.getpid()}-{id(self):x}-{len(self._mine)}"
        self._mine.add(mark)
        line = (json.dumps(event | {"mark": mark}) + "\n").encode()
        # One write in append mode: lines from two processes never interleave.
        fd = os.open(self._journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def _replay(self) -> None:
        """Apply what was appended since the last look (by this process or another)."""
        if self._journal is None:
            return
        try:
            if self._journal.stat().st_size <= self._read_to:
                return
            with self._journal.open("rb") as f:
                f.seek(self._read_to)
                fresh = f.read()
        except OSError:
            return
        complete = fresh[: fresh.rfind(b"\n") + 1]
        self._read_to += len(complete)
        for raw in complete.splitlines():
            try:
                event = json.loads(raw)
                if event.get("op") != "born" and event.get("mark") not in self._mine:
                    self._apply(event)
            except (ValueError, KeyError, TypeError, AttributeError, EngineError):
                continue  # an entry this world cannot apply is passed over, never fatal

    def _record(self, event: dict[str, Any]) -> None:
        """Apply one change now and keep it for the other processes."""
        self._replay()
        self._apply(event)
        self._append(event)

    def _apply(self, event: dict[str, Any]) -> None:
        op, at = event["op"], float(event.get("at", 0.0))
        if op == "run":
            self._run(_request_from(event["request"]), at, str(event["key"]))
        elif op == "stop":
            self._halt(self._get(event["id"]), at)
        elif op == "restart":
            self._restart(self._get(event["id"]), at)
        elif op == "remove":
            self._remove(self._get(event["id"]))

    # -- containers ---------------------------------------------------------------------------

    def _add(self, request: RunRequest, started_at: float, api_key: str) -> SimContainer:
        container_id = f"{self._ids.getrandbits(256):064x}"
        model = served_model(request.command) or request.labels.get(labels.MODEL, "model")
        profile = catalogue.find(model)
        gpus = request.gpus if isinstance(request.gpus, tuple) else tuple(range(self.gpu_count))
        if request.gpus is None:
            gpus = ()
        config = SimServerConfig(
            model="/app/model",
            served_model_name=model,
            profile=profile,
            port=request.container_port,
            gpu_memory_utilization=flag_number(
                request.command, "--gpu-memory-utilization", DEFAULT_UTILIZATION
            ),
            max_model_len=int(flag_number(request.command, "--max-model-len", 0)) or None,
            tensor_parallel_size=int(flag_number(request.command, "--tensor-parallel-size", 1)),
            gpu_memory_gib=GPU_TOTAL_MIB / 1024 - 0.46,
            api_key_set=True,
            extra_args=_passed_through(request.command),
        )
        log = render(startup_steps(config), LOG_EPOCH, STARTUP_SECONDS)
        port: int | None = request.host_port
        if request.labels.get(labels.NODE, "").startswith("worker-"):
            # A Ray worker serves nothing: it joins its head and holds its GPUs.
            ip = request.environment.get("VLLM_HOST_IP", "10.0.0.2")
            log = [(0.4, f"Local node IP: {ip}"), (0.8, "Ray runtime started.")]
            port = None
        deployment = Deployment(
            container_id=container_id,
            name=request.name,
            image=request.image,
            model=model,
            state=ContainerState.STARTING,
            host=request.host,
            port=port,
            labels=dict(request.labels),
            command=request.command,
        )
        container = SimContainer(deployment, config, gpus, started_at, log, api_key)
        self._fresh_metrics(container)
        self._runs += 1
        container.pid = 4000 + 100 * self._runs
        self._containers[container_id] = container
        return container

    def run(self, request: RunRequest) -> Deployment:
        with self._lock:
            key = request.environment.get("VLLM_API_KEY", "demo")
            self._replay()
            now = self.clock()
            event = {"op": "run", "at": now, "request": _request_record(request)}
            container = self._run(request, now, key)
            # The key only: the rest of the environment (HF_TOKEN, say) never reaches a file.
            self._append(event | {"key": key})
            return self._current(container)

    def _run(self, request: RunRequest, now: float, key: str) -> SimContainer:
        existing = [
            ExistingContainer(
                container_id=d.container_id,
                name=d.name,
                running=d.live,
                ours=d.managed,
                published=((d.host, d.port),) if d.port is not None else (),
            )
            for d in (self._current(c) for c in self._containers.values())
        ]
        for container_id in replaced_by(request, existing):
            del self._containers[container_id]
        return self._add(request, now, key)

    def stop(self, container_id: str) -> None:
        with self._lock:
            self._record({"op": "stop", "at": self.clock(), "id": container_id})

    def _halt(self, container: SimContainer, now: float) -> None:
        if self._current(container).live:
            container.stopped_at = now
            container.shutdown = [(now, SHUTDOWN_LINE)]

    def restart(self, container_id: str) -> None:
        with self._lock:
            self._record({"op": "restart", "at": self.clock(), "id": container_id})

    def _restart(self, container: SimContainer, now: float) -> None:
        self._halt(container, now)
        container.history, container.shutdown = self._entries(container), []
        container.started_at, container.stopped_at = now, None
        self._fresh_metrics(container)  # a new vLLM process counts from zero

    def _fresh_metrics(self, container: SimContainer) -> None:
        metrics = ServerMetrics(container.deployment.model, plan_memory(container.config).kv_tokens)
        container.metrics = metrics
        container.traffic = SyntheticTraffic(metrics, self.seed + self._runs)

    def metrics(self, container_id: str) -> ServerMetrics:
        with self._lock:
            metrics = self._get(container_id).metrics
        assert metrics is not None
        return metrics

    def metrics_text(self, container_id: str, seconds: float) -> str:
        """/metrics after the simulated clients have sent `seconds` more of requests."""
        with self._lock:
            container = self._get(container_id)
        assert container.metrics is not None and container.traffic is not None
        container.traffic.advance(seconds)
        return container.metrics.render()

    def remove(self, container_id: str) -> None:
        with self._lock:
            self._record({"op": "remove", "id": container_id})

    def _remove(self, container: SimContainer) -> None:
        if self._current(container).live:
            raise EngineRefused("the container is running: stop it before removing it")
        del self._containers[container.deployment.container_id]

    def _get(self, container_id: str) -> SimContainer:
        try:
            return self._containers[container_id]
        except KeyError:
            raise NoSuchContainer(f"no such container: {container_id[:12]}") from None

    def _elapsed(self, container: SimContainer) -> float:
        end = container.stopped_at if container.stopped_at is not None else self.clock()
        return end - container.started_at

    def _entries(self, container: SimContainer) -> list[tuple[float, str]]:
        """Every line written so far, stamped on the world's clock, in order."""
        elapsed = self._elapsed(container)
        run = [(container.started_at + at, text) for at, text in container.log if at <= elapsed]
        return container.history + run + container.shutdown

    def _current(self, container: SimContainer) -> Deployment:
        d = container.deployment
        ok = plan_memory(container.config).outcome == "ok"
        finished = self._elapsed(container) >= container.log[-1][0]
        if container.stopped_at is not None:
            state, code = ContainerState.EXITED, 0
        elif finished and not ok:
            state, code = ContainerState.EXITED, 1
        elif finished:
            state, code = ContainerState.RUNNING, None
        else:
            state, code = ContainerState.STARTING, None
        return replace(d, state=state, exit_code=code, started_at=container.started_at)

    def deployments(self) -> list[Deployment]:
        with self._lock:
            self._replay()
            return [self._current(c) for c in self._containers.values()]

    def deployment(self, container_id: str) -> Deployment:
        with self._lock:
            self._replay()
            return self._current(self._get(container_id))

    def log_entries(self, container_id: str) -> list[tuple[float, str]]:
        with self._lock:
            self._replay()
            return self._entries(self._get(container_id))

    def api_key(self, container_id: str) -> str:
        with self._lock:
            self._replay()
            return self._get(container_id).api_key

    def server_config(self, container_id: str) -> SimServerConfig:
        with self._lock:
            return self._get(container_id).config

    def serving(self, model: str, container_id: str | None = None) -> bool:
        """A container of this model is up; with container_id, that one (a second container
        of the same model, still starting, is not up because the first is)."""
        return any(
            d.state == ContainerState.RUNNING
            and d.model == model
            and container_id in (None, d.container_id)
            for d in self.deployments()
        )

    # -- GPUs -----------------------------------------------------------------------------------

    def gpu_loads(self) -> list[GpuLoad]:
        used = [IDLE_MIB] * self.gpu_count
        processes: list[list[tuple[int, str, int]]] = [[] for _ in range(self.gpu_count)]
        if self.gpu_count > NOTEBOOK[0]:
            gpu, pid, name, mib = NOTEBOOK
            used[gpu] += mib
            processes[gpu].append((pid, name, mib))
        with self._lock:
            self._replay()
            for container in self._containers.values():
                state = self._current(container).state
                if state not in (ContainerState.RUNNING, ContainerState.STARTING):
                    continue
                share = min(1.0, self._elapsed(container) / STARTUP_SECONDS)
                held = int(GPU_TOTAL_MIB * container.config.gpu_memory_utilization * share)
                workers = len(container.gpu_indices)
                for rank, i in enumerate(container.gpu_indices):
                    name = f"VLLM::Worker_TP{rank}" if workers > 1 else "VLLM::EngineCore"
                    used[i] += held
                    processes[i].append((container.pid + 1 + rank, name, held))
        return [GpuLoad(u, tuple(p)) for u, p in zip(used, processes, strict=True)]

    def container_of_pid(self, pid: int) -> str | None:
        """The container a GPU process belongs to (its workers' PIDs follow the container's)."""
        with self._lock:
            self._replay()
            for container_id, container in self._containers.items():
                if container.pid < pid <= container.pid + max(1, len(container.gpu_indices)):
                    return container_id
        return None

    def next_sample_rng(self) -> random.Random:
        """A generator for the next GPU reading: the n-th reading is the same on every run."""
        with self._lock:
            self._samples += 1
            return random.Random(self.seed * 1_000_003 + self._samples)


def _passed_through(command: tuple[str, ...]) -> dict[str, object]:
    """The flags the simulated server acts on beyond its own fields (dummy weights)."""
    if "--load-format" in command:
        at = command.index("--load-format")
        if at + 1 < len(command):
            return {"load_format": command[at + 1]}
    return {}


def _request_record(request: RunRequest) -> dict[str, Any]:
    return {
        "image": request.image,
        "name": request.name,
        "command": list(request.command),
        "host": request.host,
        "host_port": request.host_port,
        "container_port": request.container_port,
        "labels": dict(request.labels),
        "gpus": list(request.gpus) if isinstance(request.gpus, tuple) else request.gpus,
    }


def _request_from(record: dict[str, Any]) -> RunRequest:
    gpus = record.get("gpus")
    return RunRequest(
        image=str(record["image"]),
        name=str(record["name"]),
        command=tuple(str(part) for part in record["command"]),
        host=str(record["host"]),
        host_port=int(record["host_port"]),
        container_port=int(record["container_port"]),
        labels={str(k): str(v) for k, v in dict(record.get("labels") or {}).items()},
        gpus=tuple(int(i) for i in gpus) if isinstance(gpus, list) else gpus,
    )
