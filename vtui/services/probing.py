"""`vtui probe`: measure a profile with vLLM itself before a byte of weights is downloaded.

The profile's own image (or program) starts on the profile's GPUs with --load-format dummy
(random weights: vLLM builds the model from config.json alone) and --skip-tokenizer-init,
so the memory profile, the KV-cache sizing and the refusals are vLLM's own, for whatever
release the image holds. vtui reads vLLM's lines, then stops and removes the probe, always:
after the figures, after a refusal, at the deadline, and when the user interrupts.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from vtui.backends.files.safe_paths import inside
from vtui.backends.registry import Backends
from vtui.core import labels
from vtui.core.calibration import (
    Measured,
    measured_from,
)
from vtui.core.errors import BackendUnavailable, EngineError, ProfileError, VtuiError
from vtui.core.fit import FitEstimate
from vtui.core.fit_launch import GpuMemory
from vtui.core.launch_spec import NO_GPU, LaunchSpec, run_request
from vtui.core.log_explainer import Explanation
from vtui.core.records import GpuReading, ModelCheckpoint
from vtui.core.startup import LoadFigures, Phase
from vtui.services.fitting import FitUnknown, find_model, fit_of
from vtui.services.following import DeploymentWatch, WatchUpdate
from vtui.services.host_checks import check_profile
from vtui.services.launching import free_port
from vtui.services.learning import memory_from, record_start

# Dummy loading, torch.compile and CUDA graphs took 40-90 s on an H200 with vLLM 0.26;
# a first start that compiles kernels can take several minutes more.
DEADLINE_SECONDS = 900.0
STEP_SECONDS = 0.5
UP_GRACE_SECONDS = 10.0
LOG_LINES = 5000
PROBE_ARGS: dict[str, object] = {"--load-format": "dummy", "--skip-tokenizer-init": True}


class ProbeFailed(VtuiError):
    """The probe could not start (no GPU, no config, the engine refused); nothing runs."""


@dataclass(frozen=True)
class ProbeResult:
    profile: str
    model: str
    seconds: float
    figures: LoadFigures
    measured: Measured | None  # None when vLLM refused before sizing the cache
    estimate: FitEstimate | None  # vtui's own, for the same GPUs, beside it
    refusal: str | None = None  # vLLM's own line, when it refused to start
    explanation: Explanation | None = None
    timed_out: bool = False
    interrupted: bool = False
    command: tuple[str, ...] = ()  # what vLLM was started with (the key is not in it)
    log: tuple[str, ...] = ()  # vLLM's log up to the end of the probe, its last LOG_LINES

    @property
    def longest_fitting(self) -> int | None:
        """The longest max-model-len one request fits in, where the profile's did not."""
        if self.figures.longest_fitting:
            return self.figures.longest_fitting
        if self.explanation and self.explanation.setting:
            flag, value = self.explanation.setting
            if flag == "--max-model-len" and isinstance(value, int):
                return value
        return None


def probe_spec(spec: LaunchSpec, model_dir: Path, port: int) -> LaunchSpec:
    """The profile as a probe: its image, GPUs and vLLM settings, the model read from a
    folder of config.json alone, dummy weights, loopback only, a name of its own."""
    return replace(
        spec,
        model=str(model_dir),
        served_model_name=spec.served_name,
        container_name=f"vtui-probe-{spec.name}",
        host="127.0.0.1",
        port=port,
        offline=True,
        args={**spec.args, **PROBE_ARGS},
    )


def config_folder(backends: Backends, spec: LaunchSpec, config: object) -> Path:
    """A folder holding the model's config.json and nothing else; a local model's own."""
    if spec.local:
        return Path(spec.model).expanduser()
    root = backends.places.state / "probes"
    folder = inside(root, root / spec.name)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = inside(root, folder / "config.json")
    target.write_text(json.dumps(config, indent=1, ensure_ascii=True))
    return folder


def _readings(backends: Backends, spec: LaunchSpec) -> list[GpuReading]:
    """The GPUs to read the probe against; says why before anything starts when a profile
    that asks for GPUs finds none."""
    if spec.gpus == NO_GPU:
        with contextlib.suppress(BackendUnavailable):
            return list(backends.gpu.snapshot().gpus)
        return []
    try:
        readings = list(backends.gpu.snapshot().gpus)
    except BackendUnavailable as exc:
        raise ProbeFailed(
            f"no GPU to probe on ({exc}); a probe starts vLLM on the profile's GPUs"
        ) from exc
    if not readings:
        raise ProbeFailed("no GPU to probe on: NVML lists none")
    return readings


def probe(
    backends: Backends,
    profile: str,
    *,
    on_progress: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    deadline_seconds: float = DEADLINE_SECONDS,
) -> ProbeResult:
    """Runs one probe to its end. Raises ProbeFailed when it cannot start; a start that
    vLLM refuses is a result (refusal and explanation set), not an error."""
    try:
        spec = backends.profiles().load(profile)
    except ProfileError as exc:
        raise ProbeFailed(str(exc)) from exc
    readings = _readings(backends, spec)
    try:
        checkpoint = find_model(backends, spec.model)
    except FitUnknown as exc:
        raise ProbeFailed(f"{spec.model}: cannot read its config.json: {exc}") from exc
    try:
        folder = config_folder(backends, spec, dict(checkpoint.config))
    except OSError as exc:
        raise ProbeFailed(f"cannot write the probe's config.json: {exc.strerror or exc}") from exc
    trial = probe_spec(spec, folder, free_port(backends, "127.0.0.1", 18000))
    blocking = [p for p in check_profile(backends, trial) if p.blocks_launch]
    if blocking:
        raise ProbeFailed("; ".join(p.message for p in blocking) + " (vtui profile show NAME)")
    request = run_request(trial, secrets.token_urlsafe(24), os.environ)
    request = replace(request, labels=request.labels | {labels.PROBE: "true"})
    began = time.monotonic()
    say = on_progress or (lambda _words: None)
    program = trial.vllm_program if trial.runtime == "process" else trial.image
    say(f"starting {trial.container} ({program}, dummy weights)")
    try:
        deployment = backends.engine.run(request)
    except (EngineError, BackendUnavailable) as exc:
        raise ProbeFailed(f"the probe did not start: {exc}") from exc
    watch = DeploymentWatch.of(backends, deployment.container_id, max(1, len(readings)))
    timed_out = interrupted = False
    log: deque[str] = deque(maxlen=LOG_LINES)
    try:
        timed_out, update = _follow(watch, began, deadline_seconds, stop, say, log)
    except KeyboardInterrupt:
        interrupted, update = True, watch.update()
        raise
    finally:
        _remove(backends, deployment.container_id)
        if interrupted:
            say(f"interrupted: {trial.container} removed")
    tracker = watch.tracker
    figures = tracker.figures if tracker else LoadFigures()
    crashed = update.phase is Phase.CRASHED
    measured = measured_from(figures)
    memory = memory_from(spec, readings, figures)
    estimate = _estimate(spec, checkpoint, memory)
    result = ProbeResult(
        profile=spec.name,
        model=spec.model,
        seconds=time.monotonic() - began,
        figures=figures,
        measured=measured,
        estimate=estimate,
        refusal=(tracker.crash_line if tracker else None) if crashed else None,
        explanation=update.explanation if crashed else None,
        timed_out=timed_out,
        interrupted=stop is not None and stop.is_set(),
        command=request.command,
        log=tuple(log),
    )
    if memory is not None:
        record_start(backends, "probe", spec, memory, figures, estimate)
    return result


def _follow(
    watch: DeploymentWatch,
    began: float,
    deadline: float,
    stop: threading.Event | None,
    say: Callable[[str], None],
    log: deque[str],
) -> tuple[bool, WatchUpdate]:
    said = ""
    up_since: float | None = None
    while True:
        update = watch.step()
        log.extend(update.lines)
        tracker = watch.tracker
        if update.gone or update.phase in (Phase.CRASHED, Phase.STOPPED):
            return False, update
        figures = tracker.figures if tracker else LoadFigures()
        if figures.engine_ready:
            return False, update
        if update.phase in (Phase.READY, Phase.SERVING):
            # Up: the figures came before; a log a little behind /health gets a moment.
            up_since = up_since or time.monotonic()
            if measured_from(figures) or time.monotonic() - up_since > UP_GRACE_SECONDS:
                return False, update
        if stop is not None and stop.is_set():
            return False, update
        if time.monotonic() - began > deadline:
            return True, update
        # Said once per phase and per new figure, not once a second.
        news = f"{update.phase}|{update.figures[-1:]}"
        if news != said:
            say(update.progress + (f" · {update.figures[-1]}" if update.figures else ""))
            said = news
        time.sleep(STEP_SECONDS)


def _remove(backends: Backends, container_id: str) -> None:
    engine = backends.engine
    with contextlib.suppress(EngineError, BackendUnavailable):
        engine.stop(container_id, timeout=5)
    for _ in range(20):  # a process runtime's keeper takes a moment to record the exit
        try:
            engine.remove(container_id)
            return
        except (EngineError, BackendUnavailable):
            time.sleep(0.25)


def _estimate(
    spec: LaunchSpec, checkpoint: ModelCheckpoint, memory: GpuMemory | None
) -> FitEstimate | None:
    """vtui's own estimate, from its closed forms (no past start), to set beside vLLM's."""
    if memory is None:
        return None
    try:
        return fit_of(spec, checkpoint, memory)
    except FitUnknown:
        return None


def describe(result: ProbeResult) -> str:
    """The probe in one line, for the Launch screen's status."""
    m, e = result.measured, result.estimate
    if result.refusal or m is None:
        why = result.explanation
        words = f"vLLM refused: {why.cause} {why.fix}" if why else f"vLLM refused: {result.refusal}"
        if result.timed_out:
            words = "no figures before the deadline; the probe was removed"
        if result.longest_fitting:
            words += f" (longest that fits: {result.longest_fitting:,} tokens)"
        return words
    guess = e.kv_cache_tokens if e else None
    error = (
        f", estimate {guess:,} ({(guess - m.kv_cache_tokens) / m.kv_cache_tokens:+.1%})"
        if guess
        else ""
    )
    return (
        f"measured {m.kv_cache_tokens:,} KV tokens{error}; weights {m.weights_gib:.2f} GiB, "
        f"KV cache {m.kv_cache_gib:.2f} GiB, in {result.seconds:.0f} s"
    )
