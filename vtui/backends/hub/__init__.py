"""The model hub interface: find models and read what they are."""

from __future__ import annotations

from typing import Protocol

from vtui.core.records import ModelCheckpoint, ModelSummary


class ModelHub(Protocol):
    label: str

    def search(self, query: str, limit: int = 30) -> list[ModelSummary]:
        """Text-generation models matching `query`, most downloaded first."""
        ...

    def checkpoint(self, repo_id: str) -> ModelCheckpoint:
        """The repo's config.json (fetched alone) and its safetensors parameter counts.
        Raises BackendUnavailable when the Hub is out of reach or has no such model."""
        ...
