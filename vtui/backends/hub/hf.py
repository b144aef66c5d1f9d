"""The real hub: the Hugging Face Hub (or the mirror HF_ENDPOINT names) through huggingface_hub."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from vtui.core.downloads import DownloadPlan, LocalModel, Progress
from vtui.core.model_shape import checkpoint_bytes
from vtui.core.records import BackendUnavailable, ModelCheckpoint, ModelSummary

DEFAULT_ENDPOINT = "https://huggingface.co"
CONNECT_TIMEOUT = 4.0


def _unreachable(endpoint: str) -> str | None:
    """Why the endpoint's host cannot be reached, or None when a TCP connection opens.

    huggingface_hub retries a refused connection five times with back-off (about 23 s);
    a quick connect first lets an offline box say so at once.
    """
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=CONNECT_TIMEOUT):
            return None
    except OSError as exc:
        return f"cannot connect to {parts.hostname}:{port} ({exc.strerror or exc})"


def hub_offline() -> bool:
    """HF_HUB_OFFLINE as huggingface_hub reads it (1, ON, YES, TRUE)."""
    return os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")


def _weights(info: Any) -> tuple[float | None, int | None]:
    st = getattr(info, "safetensors", None)
    if st is None:
        return None, None
    params = getattr(st, "parameters", None) or {}
    total = getattr(st, "total", None) or sum(params.values()) or None
    size = checkpoint_bytes(params) or None
    return (total / 1e9 if total else None), size


class HfHub:
    def __init__(self, endpoint: str | None = None) -> None:
        self.endpoint = endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
        self.label = f"Hugging Face Hub ({self.endpoint})"
        self._api: Any = None

    def _client(self) -> Any:
        if self._api is None:
            from huggingface_hub import HfApi  # imported here: it costs start-up time

            # Its warnings go to stderr, which would scribble over the full-screen UI.
            logging.getLogger("huggingface_hub").setLevel(logging.ERROR)

            # The token comes from HF_TOKEN or `hf auth login`, read by huggingface_hub itself,
            # so vtui never holds it.
            self._api = HfApi(endpoint=self.endpoint)
        return self._api

    def _reachable_client(self) -> Any:
        if hub_offline():
            raise BackendUnavailable(
                "HF_HUB_OFFLINE is set, so the Hub is not asked: press l for the models on "
                "this machine"
            )
        problem = _unreachable(self.endpoint)
        if problem:
            raise BackendUnavailable(f"the Hub at {self.endpoint} is out of reach: {problem}")
        return self._client()

    def search(self, query: str, limit: int = 30) -> list[ModelSummary]:
        api = self._reachable_client()
        try:
            found = api.list_models(
                search=query.strip() or None,
                sort="downloads",
                limit=limit,
                expand=["downloads", "likes", "pipeline_tag", "safetensors"],
            )
            results = []
            for info in found:
                params, size = _weights(info)
                results.append(
                    ModelSummary(
                        repo_id=info.id,
                        pipeline_tag=getattr(info, "pipeline_tag", None),
                        downloads=getattr(info, "downloads", None),
                        likes=getattr(info, "likes", None),
                        params_billions=params,
                        size_bytes=size,
                    )
                )
            return results
        except Exception as exc:
            raise BackendUnavailable(
                f"the Hub at {self.endpoint} did not answer ({type(exc).__name__}: "
                f"{str(exc)[:160]})"
            ) from exc

    def plan_download(self, repo_id: str) -> DownloadPlan:
        from vtui.backends.hub.download import plan_download

        return plan_download(repo_id, endpoint=self.endpoint)

    def download(
        self, plan: DownloadPlan, on_progress: Callable[[Progress], None], cancel: threading.Event
    ) -> str:
        from vtui.backends.hub.download import run_download

        path = run_download(plan, endpoint=self.endpoint, on_progress=on_progress, cancel=cancel)
        return str(path)

    def local_models(self) -> list[LocalModel]:
        from vtui.backends.model_inventory import default_model_dirs, local_models

        return local_models(model_dirs=default_model_dirs())

    def delete_local(self, model: LocalModel) -> None:
        from vtui.backends.model_inventory import delete_local

        delete_local(model)

    def checkpoint(self, repo_id: str) -> ModelCheckpoint:
        api = self._reachable_client()
        try:
            # Into the shared HF cache, where vLLM's container and `hf download` find it too.
            path = api.hf_hub_download(repo_id=repo_id, filename="config.json")
            with open(path, encoding="utf-8") as handle:
                config = json.load(handle)
            info = api.model_info(repo_id, expand=["safetensors"])
        except Exception as exc:
            if "EntryNotFound" in type(exc).__name__:
                raise BackendUnavailable(f"{repo_id} has no config.json") from exc
            raise BackendUnavailable(hub_problem(repo_id, exc)) from exc
        st = getattr(info, "safetensors", None)
        params = dict(getattr(st, "parameters", None) or {})
        if not isinstance(config, dict):
            raise BackendUnavailable(f"{repo_id}: config.json does not hold a JSON object")
        return ModelCheckpoint(repo_id, "Hub", config, params)


def hub_problem(repo_id: str, exc: Exception) -> str:
    """What went wrong asking the Hub about a repo, and what to do: for huggingface_hub's
    errors and for HTTP status errors alike (the downloader's own requests)."""
    name = type(exc).__name__
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if "GatedRepo" in name or status in (401, 403):
        return (
            f"{repo_id} is gated or private: accept its terms on the model page, then "
            "`hf auth login` or set HF_TOKEN"
        )
    if "RepositoryNotFound" in name or (status == 404 and "Revision" not in name):
        return f"{repo_id}: no such model on the Hub (or it is private)"
    if "RevisionNotFound" in name:
        return f"{repo_id}: no such revision"
    if status == 429:
        return "the Hub is rate limiting this machine: wait a minute and rerun"
    if isinstance(exc, OSError) or "Connect" in name or "Timeout" in name:
        return f"the Hub is out of reach ({name}): check the network and rerun"
    return f"the Hub did not answer for {repo_id} ({name}: {str(exc)[:160]})"
