"""The fit check, one path for the Models screen, the Launch screen and `vtui estimate`:
find the model (a path, the HF cache, the Hub), then vLLM's memory arithmetic on the GPUs
it would use. The HF cache is the hub backend's own (the demo's has none)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vtui.backends.files.calibration_store import Learned
from vtui.backends.files.checkpoints import cached_checkpoint, local_checkpoint
from vtui.backends.registry import Backends
from vtui.core.calibration import StartRecord
from vtui.core.errors import BackendUnavailable, CheckpointNotFound, VtuiError
from vtui.core.fit import FitEstimate, short_verdict
from vtui.core.fit_launch import GpuMemory, estimate_launch, gpu_memory
from vtui.core.launch_spec import LaunchSpec, is_local_model
from vtui.core.model_shape import UnknownModel
from vtui.core.records import GpuReading, ModelCheckpoint
from vtui.core.units import NOT_AVAILABLE


class FitUnknown(VtuiError):
    """No fit can be given: the model cannot be found or read, or its config not counted."""


def find_model(backends: Backends, model: str) -> ModelCheckpoint:
    """The model's config.json and tensor sizes. A model in the HF cache is read there
    first, so no network is needed for it. Raises FitUnknown with the reason."""
    hub = backends.hub
    try:
        if is_local_model(model) or Path(model).expanduser().exists() or model.endswith(".json"):
            return local_checkpoint(model)
        hf_home = hub.hf_home
        cached = cached_checkpoint(hf_home, model) if hf_home else None
        if cached is not None and cached.dtype_parameters:
            return cached
        try:
            return hub.checkpoint(model)
        except BackendUnavailable:
            if cached is not None:  # its config.json, though not its weights, is here
                return cached
            raise
    except (CheckpointNotFound, BackendUnavailable) as exc:
        raise FitUnknown(str(exc)) from exc


def learned(backends: Backends) -> Learned:
    """The starts this machine measured (`vtui probe` and every launch vtui followed)."""
    return backends.calibration().read()


def fit_of(
    spec: LaunchSpec,
    checkpoint: ModelCheckpoint,
    memory: GpuMemory,
    *,
    check_free: bool = False,
    learned: Sequence[StartRecord] = (),
) -> FitEstimate:
    """Pure arithmetic on what was read; a start of the same launch among `learned` gives
    vLLM's own budget terms. Raises FitUnknown when config.json cannot be counted."""
    try:
        return estimate_launch(spec, checkpoint, memory, check_free=check_free, learned=learned)
    except UnknownModel as exc:
        raise FitUnknown(str(exc)) from exc


@dataclass(frozen=True)
class Verdict:
    short: str  # the Models table's cell
    summary: str  # the details pane's sentence


def verdict_at_defaults(
    backends: Backends,
    model: str,
    gpus: Sequence[GpuReading],
    past: Sequence[StartRecord] | None = None,
) -> Verdict:
    """The model on these GPUs at vLLM's defaults, as the Models screen shows it; the
    memory other processes hold now is counted, as vLLM counts it. `past`: the store's
    records, read once for a screenful of models (read here when not given)."""
    spec = LaunchSpec(name="fit", model=model)
    memory = gpu_memory(spec, gpus)
    if memory is None:
        return Verdict("no GPU", "no GPU to judge against")
    try:
        fit = fit_of(
            spec,
            find_model(backends, model),
            memory,
            check_free=True,
            learned=learned(backends).records if past is None else past,
        )
    except FitUnknown as exc:
        return Verdict(NOT_AVAILABLE, f"not known: {exc}")
    summary = f"{fit.summary} (vLLM's defaults)"
    if fit.advice and not fit.fits:
        summary += f"; {fit.advice[0]}"
    if fit.busy:
        summary += f". Now: {fit.busy}"
    return Verdict(short_verdict(fit), summary)
