"""Finding a model's config.json on this machine: its directory, or the shared HF cache."""

from __future__ import annotations

import json
from pathlib import Path

from vtui.backends.files.checkpoints import cache_snapshot
from vtui.core.launch_spec import LaunchSpec
from vtui.core.model_config import facts_from_config
from vtui.core.model_facts import ModelFacts


def config_path(spec: LaunchSpec) -> Path | None:
    if spec.local:
        candidate = Path(spec.model).expanduser() / "config.json"
        return candidate if candidate.is_file() else None
    if not spec.hf_cache or "/" not in spec.model:
        return None
    snapshot = cache_snapshot(spec.hf_cache, spec.model)
    return snapshot / "config.json" if snapshot else None


def model_facts(spec: LaunchSpec) -> ModelFacts | None:
    """The model's facts when its config.json is here; None when it is not (yet)."""
    path = config_path(spec)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return facts_from_config(data) if isinstance(data, dict) else None
    except (OSError, ValueError, TypeError, AttributeError, RecursionError, OverflowError):
        return None  # a config.json vtui cannot read gives no facts, never a crash
