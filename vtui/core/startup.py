"""Where a vLLM server is in its start-up, read from its log, its /health and its exit.

vLLM prints the same milestones on every start (loading the checkpoint, the weights' size,
the KV cache it could keep, CUDA graph capture, "Application startup complete."); the
tracker follows them, times each phase, and keeps the figures people look for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from vtui.core.log_buffer import PROCESS_PREFIX


class Phase(StrEnum):
    PULLING = "pulling image"
    STARTING = "starting"
    LOADING = "loading weights"
    PROFILING = "profiling memory"
    CAPTURING = "capturing CUDA graphs"
    READY = "ready"
    SERVING = "serving"
    CRASHED = "crashed"
    STOPPED = "stopped"


# The order a healthy start walks through; a line never moves the tracker backwards.
ORDER = (
    Phase.PULLING,
    Phase.STARTING,
    Phase.LOADING,
    Phase.PROFILING,
    Phase.CAPTURING,
    Phase.READY,
    Phase.SERVING,
)
ENDED = (Phase.CRASHED, Phase.STOPPED)

# (pattern, phase it starts); vLLM 0.33's own texts, older wordings where they differ.
_MILESTONES: tuple[tuple[re.Pattern[str], Phase], ...] = (
    (re.compile(r"vLLM API server version|Automatically detected platform"), Phase.STARTING),
    # "Loading model from scratch" is Model Runner V2's (vLLM 0.26), which says neither other.
    (
        re.compile(
            r"Starting to load model|Loading safetensors checkpoint shards|"
            r"Loading model from scratch"
        ),
        Phase.LOADING,
    ),
    (re.compile(r"Model loading took|Loading model weights took"), Phase.PROFILING),
    (re.compile(r"Capturing CUDA graphs|Capturing cudagraphs"), Phase.CAPTURING),
    (re.compile(r"Application startup complete\."), Phase.READY),
    # A request answered; a GET of /v1/models is only a probe (vtui sends one itself).
    (re.compile(r'"POST /v1/\S+ HTTP/1\.[01]" 200'), Phase.SERVING),
)
_CRASHES = re.compile(
    r"Engine core initialization failed|EngineCore failed to start|"
    rf"^{PROCESS_PREFIX}\S*Error: |error while attempting to bind on address"
)
_WEIGHTS = re.compile(r"(?:Model loading|Loading model weights) took ([\d.]+) (GiB|GB)")
_KV_MEMORY = re.compile(r"Available KV cache memory: ([\d.]+) GiB")
_KV_TOKENS = re.compile(r"GPU KV cache size: ([\d,]+) tokens")
_CONCURRENCY = re.compile(r"Maximum concurrency for ([\d,]+) tokens per request: ([\d.]+)x")
_GRAPHS = re.compile(r"Graph capturing finished in \d+ secs?, took ([\d.]+) GiB")
# vLLM 0.26+ (gpu_worker.py): the whole budget in one line, after the KV cache is sized.
_USAGE = re.compile(
    r"Desired GPU memory utilization is \(([\d.]+), ([\d.]+) GiB\)\. Actual usage is "
    r"([\d.]+) GiB for weight, ([\d.]+) GiB for peak activation, ([\d.]+) GiB for non-torch "
    r"memory, and ([\d.]+) GiB for CUDAGraph memory"
)
_FREE_AT_START = re.compile(r"Free memory on device \(([\d.]+)/([\d.]+) GiB\) on startup")
_VERSION = re.compile(r"vLLM API server version (\S+)|Initializing a V1 LLM engine \(v([^)\s]+)\)")
_RUNNER = re.compile(r"Using (V\d) Model Runner")
# vLLM's refusal of a length the cache cannot hold names the longest it can.
_LONGEST = re.compile(r"estimated maximum model length is (\d+)")
# V1 runner: what the profile set aside for graphs before the cache was sized.
_GRAPH_ESTIMATE = re.compile(r"Estimated CUDA graph memory: ([\d.]+) GiB")
# vtui's own Ray head, while it waits for every node (core/multinode.py JOINED_LINE).
_RAY_NODES = re.compile(r"(?:^|\s)vtui: (\d{1,4}) of (\d{1,4}) Ray nodes joined$")
_INIT_DONE = re.compile(r"init engine \(profile, create kv cache, warmup model\) took")


@dataclass
class LoadFigures:
    weights_gib: float | None = None
    kv_cache_gib: float | None = None
    kv_cache_tokens: int | None = None
    max_concurrency: float | None = None
    context_tokens: int | None = None  # the request length the concurrency is for
    cuda_graphs_gib: float | None = None  # taken by the capture, after the cache was sized
    # From the budget line vLLM 0.26+ prints (None before, or from older releases):
    utilization: float | None = None
    requested_gib: float | None = None
    activation_gib: float | None = None
    non_torch_gib: float | None = None
    graph_estimate_gib: float | None = None  # set aside for graphs before the cache (V1)
    free_at_start_gib: float | None = None
    total_gib: float | None = None
    vllm_version: str | None = None
    runner: str | None = None  # "V2" when vLLM says it runs Model Runner V2
    longest_fitting: int | None = None  # vLLM's own figure when it refuses the length
    engine_ready: bool = False  # profiling, cache and warm-up are done
    ray_nodes: tuple[int, int] | None = None  # (joined, wanted) of a head over several hosts

    def lines(self) -> list[str]:
        out = []
        if self.ray_nodes is not None:
            out.append(f"Ray nodes {self.ray_nodes[0]} of {self.ray_nodes[1]} joined")
        if self.weights_gib is not None:
            out.append(f"weights {self.weights_gib:.2f} GiB")
        if self.kv_cache_gib is not None:
            out.append(f"KV cache {self.kv_cache_gib:.2f} GiB")
        if self.kv_cache_tokens is not None:
            out.append(f"{self.kv_cache_tokens:,} KV tokens")
        if self.max_concurrency is not None and self.context_tokens:
            out.append(
                f"{self.max_concurrency:.2f}x requests of {self.context_tokens:,} tokens at once"
            )
        return out


@dataclass
class StartupTracker:
    """Feed it log lines, health answers and the container's end; it says the phase."""

    started_at: float
    phase: Phase = Phase.STARTING
    figures: LoadFigures = field(default_factory=LoadFigures)
    # When each phase began, in seconds on the caller's clock.
    began: dict[Phase, float] = field(default_factory=dict)
    crash_line: str | None = None
    exit_code: int | None = None
    oom_killed: bool = False

    def __post_init__(self) -> None:
        self.began.setdefault(self.phase, self.started_at)

    def _enter(self, phase: Phase, now: float) -> None:
        if self.phase in ENDED:
            return
        if phase in ENDED or ORDER.index(phase) > ORDER.index(self.phase):
            self.phase = phase
            self.began.setdefault(phase, now)

    def pulling(self, now: float) -> None:
        self.phase = Phase.PULLING
        self.began[Phase.PULLING] = now

    def feed(self, line: str, now: float) -> None:
        for pattern, phase in _MILESTONES:
            if pattern.search(line):
                self._enter(phase, now)
        self._read_figures(line)
        if self.phase not in ENDED and self.crash_line is None and _CRASHES.search(line):
            self.crash_line = line.strip()

    def _read_figures(self, line: str) -> None:
        f = self.figures
        if m := _WEIGHTS.search(line):
            size = float(m.group(1))
            f.weights_gib = size if m.group(2) == "GiB" else size * 1e9 / 2**30
        elif m := _KV_MEMORY.search(line):
            f.kv_cache_gib = float(m.group(1))
        elif m := _KV_TOKENS.search(line):
            f.kv_cache_tokens = int(m.group(1).replace(",", ""))
        elif m := _CONCURRENCY.search(line):
            f.context_tokens = int(m.group(1).replace(",", ""))
            f.max_concurrency = float(m.group(2))
        elif m := _GRAPHS.search(line):
            f.cuda_graphs_gib = float(m.group(1))
        elif m := _USAGE.search(line):
            f.utilization, f.requested_gib = float(m.group(1)), float(m.group(2))
            f.weights_gib = f.weights_gib if f.weights_gib is not None else float(m.group(3))
            f.activation_gib, f.non_torch_gib = float(m.group(4)), float(m.group(5))
            # The line's graph figure is what the capture took, after the cache was sized.
            f.cuda_graphs_gib = float(m.group(6))
            if f.graph_estimate_gib is None:
                f.graph_estimate_gib = 0.0 if f.runner == "V2" or not f.cuda_graphs_gib else None
            if at := _FREE_AT_START.search(line):
                f.free_at_start_gib, f.total_gib = float(at.group(1)), float(at.group(2))
        elif m := _VERSION.search(line):
            f.vllm_version = f.vllm_version or (m.group(1) or m.group(2))[:40]
        elif m := _RUNNER.search(line):
            f.runner = m.group(1)
        elif m := _LONGEST.search(line):
            f.longest_fitting = int(m.group(1))
        elif m := _GRAPH_ESTIMATE.search(line):
            f.graph_estimate_gib = float(m.group(1))
        elif _INIT_DONE.search(line):
            f.engine_ready = True
        elif m := _RAY_NODES.search(line.strip()):
            f.ray_nodes = (int(m.group(1)), int(m.group(2)))

    def healthy(self, now: float) -> None:
        """/health answered 200: the server is up even if its log was missed."""
        if self.phase not in ENDED and ORDER.index(self.phase) < ORDER.index(Phase.READY):
            self._enter(Phase.READY, now)

    def exited(self, code: int | None, oom_killed: bool, now: float, asked: bool) -> None:
        """The container stopped: asked to (stopped) or on its own (crashed)."""
        self.exit_code, self.oom_killed = code, oom_killed
        ended = Phase.STOPPED if asked or (code == 0 and not oom_killed) else Phase.CRASHED
        if self.phase not in ENDED:
            self.phase = ended
            self.began.setdefault(ended, now)

    def durations(self, now: float) -> list[tuple[Phase, float]]:
        """Each phase reached, in order, with the seconds spent in it (to now for the last)."""
        reached = sorted(self.began.items(), key=lambda kv: kv[1])
        out = []
        for i, (phase, start) in enumerate(reached):
            end = reached[i + 1][1] if i + 1 < len(reached) else now
            out.append((phase, max(0.0, end - start)))
        return out

    def describe(self, now: float) -> str:
        """'loading weights 12s (starting 3s)' or 'crashed (exit 1, killed: out of memory)'."""
        if self.phase is Phase.CRASHED:
            why = ["killed: out of memory"] if self.oom_killed else []
            if self.exit_code is not None:
                why.insert(0, f"exit {self.exit_code}")
            return f"crashed ({', '.join(why)})" if why else "crashed"
        spent = self.durations(now)
        if self.phase in (Phase.READY, Phase.SERVING):
            # Up: how long the start-up took matters, not how long it has been up.
            began = self.began.get(Phase.READY, now)
            steps = ", ".join(
                f"{p} {s:.0f}s" for p, s in spent if p not in (Phase.READY, Phase.SERVING)
            )
            took = f"{self.phase}; started in {began - self.started_at:.0f}s"
            return f"{took} ({steps})" if steps else took
        current = f"{self.phase} {spent[-1][1]:.0f}s" if spent else str(self.phase)
        earlier = ", ".join(f"{p} {s:.0f}s" for p, s in spent[:-1])
        return f"{current} ({earlier})" if earlier else current
