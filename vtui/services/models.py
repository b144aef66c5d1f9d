"""Models: searching the Hub, downloading, and what is already here, for the Models screen
and `vtui search`, `download`, `models`, on whichever hub the registry hands out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from vtui.backends.files.model_inventory import local_models as models_in
from vtui.backends.hub import Downloads
from vtui.backends.registry import Backends
from vtui.core.downloads import HUB_CACHE, Destination, DownloadPlan, LocalModel, Progress
from vtui.core.errors import BackendUnavailable, DownloadError
from vtui.core.hosts import LOCAL
from vtui.core.model_search import SearchQuery
from vtui.core.records import ModelSummary


def search(
    backends: Backends,
    query: SearchQuery,
    limit: int = 30,
    on_wait: Callable[[str], None] | None = None,
) -> list[ModelSummary]:
    """Raises BackendUnavailable (HubUnavailable)."""
    return backends.hub.search(query, limit=max(1, limit), on_wait=on_wait)


def _downloader(backends: Backends, host: str | None) -> Downloads:
    """This machine's hub, or the named host's downloads (into its own HF cache)."""
    if host is None or host == LOCAL:
        return backends.hub
    if backends.hosts is None:
        raise DownloadError(f"no host called {host!r} here")
    try:
        return backends.hosts.downloads_on(host)
    except BackendUnavailable as exc:
        raise DownloadError(str(exc)) from None


def plan(
    backends: Backends, repo_id: str, where: Destination = HUB_CACHE, host: str | None = None
) -> DownloadPlan:
    """What to fetch and what `host` (default: this machine) has. Raises DownloadError."""
    return _downloader(backends, host).plan_download(repo_id, where)


def fetch(
    backends: Backends,
    plan: DownloadPlan,
    on_progress: Callable[[Progress], None],
    cancel: threading.Event,
    where: Destination = HUB_CACHE,
    host: str | None = None,
) -> str:
    """The model's path on `host`. Raises DownloadError or Cancelled (what came is kept)."""
    return _downloader(backends, host).download(plan, on_progress, cancel, where)


def here(backends: Backends, model_dirs: Sequence[Path] | None = None) -> list[LocalModel]:
    """The hub's own local models, or those in the named directories."""
    if model_dirs:
        return models_in(model_dirs=model_dirs)
    return backends.hub.local_models()
