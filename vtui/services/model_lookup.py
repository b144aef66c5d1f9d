"""Where the fit check finds a model: a path on this machine, the HF cache, or the Hub."""

from __future__ import annotations

from pathlib import Path

from vtui.backends.files.checkpoints import cached_checkpoint, local_checkpoint
from vtui.backends.hub import ModelHub
from vtui.core.errors import BackendUnavailable, CheckpointNotFound
from vtui.core.launch_spec import is_local_model
from vtui.core.records import ModelCheckpoint


def find_checkpoint(model: str, hub: ModelHub, hf_home: str | None = None) -> ModelCheckpoint:
    """Raises CheckpointNotFound for a bad path and BackendUnavailable when the Hub cannot
    say; a model in the HF cache is read there first, so no network is needed for it."""
    if is_local_model(model) or Path(model).expanduser().exists() or model.endswith(".json"):
        return local_checkpoint(model)
    cached = cached_checkpoint(hf_home, model) if hf_home else None
    if cached is not None and cached.dtype_parameters:
        return cached
    try:
        return hub.checkpoint(model)
    except BackendUnavailable:
        if cached is not None:  # its config.json, though not its weights, is here
            return cached
        raise


__all__ = ["CheckpointNotFound", "find_checkpoint"]
