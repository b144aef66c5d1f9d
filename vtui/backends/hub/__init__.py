"""The model hub interface: find models and read what they are."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from vtui.core.downloads import DownloadPlan, LocalModel, Progress
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

    def plan_download(self, repo_id: str) -> DownloadPlan:
        """The files vLLM needs, their sizes and what is already here; raises DownloadError."""
        ...

    def download(
        self,
        plan: DownloadPlan,
        on_progress: Callable[[Progress], None],
        cancel: threading.Event,
    ) -> str:
        """Fetches what is missing, reporting progress; returns the path vLLM loads.
        Raises DownloadError, or Cancelled when `cancel` is set (what came is kept)."""
        ...

    def local_models(self) -> list[LocalModel]:
        """Models already on this machine, largest first."""
        ...

    def delete_local(self, model: LocalModel) -> None:
        """Frees the disk a local model takes; raises DownloadError when it cannot."""
        ...
