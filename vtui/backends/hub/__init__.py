"""The model hub interface: find models and read what they are."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from vtui.core.downloads import HUB_CACHE, Destination, DownloadPlan, LocalModel, Progress
from vtui.core.model_details import ModelDetails
from vtui.core.model_search import SearchQuery
from vtui.core.records import ModelCheckpoint, ModelSummary


class Downloads(Protocol):
    """Downloads into one host's HF cache: this machine's (the hub itself) or another's,
    through its engine (remote_download.py)."""

    label: str

    def plan_download(self, repo_id: str, where: Destination = HUB_CACHE) -> DownloadPlan:
        """The files vLLM needs, their sizes and what is already at `where` on that host;
        raises DownloadError."""
        ...

    def download(
        self,
        plan: DownloadPlan,
        on_progress: Callable[[Progress], None],
        cancel: threading.Event,
        where: Destination = HUB_CACHE,
    ) -> str:
        """Fetches what is missing, reporting progress; returns the path vLLM loads there.
        Raises DownloadError, or Cancelled when `cancel` is set (what came is kept)."""
        ...


class ModelHub(Downloads, Protocol):
    @property
    def hf_home(self) -> str | None:
        """The HF home on this machine that the hub's models land in; None when simulated."""
        ...

    def search(
        self,
        query: SearchQuery,
        limit: int = 30,
        on_wait: Callable[[str], None] | None = None,
    ) -> list[ModelSummary]:
        """Models vLLM can serve that match `query`, in its order. `on_wait` hears why the
        search is waiting (the Hub rate limiting it, say). Raises BackendUnavailable."""
        ...

    def details(self, repo_id: str) -> ModelDetails:
        """What the details pane shows of one model; raises BackendUnavailable."""
        ...

    def checkpoint(self, repo_id: str) -> ModelCheckpoint:
        """The repo's config.json (fetched alone) and its safetensors parameter counts.
        Raises BackendUnavailable when the Hub is out of reach or has no such model."""
        ...

    def local_models(self) -> list[LocalModel]:
        """Models already on this machine, largest first."""
        ...

    def delete_local(self, model: LocalModel) -> None:
        """Frees the disk a local model takes; raises DownloadError when it cannot."""
        ...
