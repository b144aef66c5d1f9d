"""The real hub: the Hugging Face Hub (or the mirror HF_ENDPOINT names) through huggingface_hub."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from vtui.backends.hub.hub_calls import hub_offline, hub_problem, within_deadline
from vtui.core.downloads import HUB_CACHE, Destination, DownloadPlan, LocalModel, Progress
from vtui.core.errors import BackendUnavailable
from vtui.core.model_details import ModelDetails
from vtui.core.model_search import (
    SORTS,
    SearchQuery,
    hub_num_parameters,
    hub_tag,
    keep,
    quantization_of,
)
from vtui.core.model_shape import checkpoint_bytes
from vtui.core.numbers import whole_number
from vtui.core.records import ModelCheckpoint, ModelSummary
from vtui.core.safe_names import REPO_ID
from vtui.core.terminal_text import visible

DEFAULT_ENDPOINT = "https://huggingface.co"
_T = TypeVar("_T")
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


# huggingface_hub warns through this logger before each retry it makes.
HTTP_LOGGER = "huggingface_hub.utils._http"
SEARCH_PAGE = 100
SEARCH_FIELDS = [
    "downloads", "likes", "pipeline_tag", "safetensors", "gated", "lastModified", "tags",
]  # fmt: skip


def _shown(value: object) -> str | None:
    """A text field of a listing as vtui shows it: bounded, controls made visible."""
    return visible(str(value)[:200]) if value else None


def _count(value: object) -> int | None:
    return value if whole_number(value) and value >= 0 else None


def summary_of(info: Any) -> ModelSummary | None:
    """A search result as the table shows it, from the Hub's listing; None for an entry
    whose id is no repo id (a hostile or broken listing), which the table leaves out."""
    if not isinstance(getattr(info, "id", None), str) or not REPO_ID.fullmatch(info.id):
        return None
    try:
        params, size = _weights(info)
    except (TypeError, ValueError, AttributeError, OverflowError):
        params, size = None, None
    modified = getattr(info, "last_modified", None)
    tags = [visible(str(t)[:100]) for t in (getattr(info, "tags", None) or ())][:200]
    return ModelSummary(
        repo_id=info.id,
        pipeline_tag=_shown(getattr(info, "pipeline_tag", None)),
        downloads=_count(getattr(info, "downloads", None)),
        likes=_count(getattr(info, "likes", None)),
        params_billions=params,
        size_bytes=size,
        quant=quantization_of(info.id, tags),
        gated=_shown(getattr(info, "gated", None)),
        last_modified=modified.date().isoformat() if isinstance(modified, datetime) else None,
        has_safetensors=getattr(info, "safetensors", None) is not None,
    )


def _license(card: Any, tags: Any) -> str | None:
    value = getattr(card, "license", None)
    if isinstance(value, str) and value:
        return _shown(value)
    for tag in tags:
        if str(tag).startswith("license:"):
            return _shown(str(tag).removeprefix("license:"))
    return None


def _status(exc: BaseException) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


class _WaitReporter(logging.Handler):
    """Hears huggingface_hub say it will retry (after a 429, it waits the Retry-After it
    was given) and tells the caller, so a search that waits says why and for how long."""

    WAIT = re.compile(r"(?:Waiting|Retrying in) ([\d.]+)s.*\[Retry (\d+)/(\d+)\]")
    STATUS = re.compile(r"HTTP Error (\d+)")

    def __init__(self, on_wait: Callable[[str], None]) -> None:
        super().__init__(logging.WARNING)
        self.on_wait = on_wait
        self.thread = threading.get_ident()
        self.status = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        text = record.getMessage()
        if status := self.STATUS.search(text):
            self.status = status.group(1)
            return
        wait = self.WAIT.search(text)
        if wait is None:
            return
        why = (
            "the Hub is rate limiting this machine (HTTP 429)"
            if self.status == "429"
            else f"the Hub failed (HTTP {self.status})"
            if self.status
            else "the Hub could not be reached"
        )
        seconds, attempt, attempts = float(wait.group(1)), wait.group(2), wait.group(3)
        self.on_wait(f"{why}; asking again in {seconds:.0f} s (retry {attempt} of {attempts})")


@contextmanager
def _rate_limit_watch(on_wait: Callable[[str], None] | None) -> Iterator[None]:
    if on_wait is None:
        yield
        return
    logger = logging.getLogger(HTTP_LOGGER)
    # vtui silences huggingface_hub below ERROR; its retry warnings come here, not to stderr.
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    handler = _WaitReporter(on_wait)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _dtype_parameters(info: Any) -> dict[str, int]:
    """Parameters per safetensors dtype from the Hub's metadata; empty when it has none, or
    when what it has is not dtype names and counts."""
    found = getattr(getattr(info, "safetensors", None), "parameters", None)
    if not isinstance(found, dict):
        return {}
    return {
        str(dtype)[:16]: count
        for dtype, count in found.items()
        if whole_number(count) and 0 <= count < 10**15
    }


def _weights(info: Any) -> tuple[float | None, int | None]:
    st = getattr(info, "safetensors", None)
    if st is None:
        return None, None
    params = _dtype_parameters(info)
    total = getattr(st, "total", None) or sum(params.values()) or None
    size = checkpoint_bytes(params) or None
    return (total / 1e9 if total else None), size


class HfHub:
    def __init__(self, endpoint: str | None = None) -> None:
        self.endpoint = endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
        self.label = f"Hugging Face Hub ({self.endpoint})"
        self._api: Any = None

    @property
    def hf_home(self) -> str | None:
        """The HF home whose cache the fit check reads before asking the Hub."""
        from vtui.locations import hf_home

        return hf_home()

    def _client(self) -> Any:
        if self._api is None:
            from huggingface_hub import HfApi  # imported here: it costs start-up time

            # Its warnings and progress bars go to stderr, which would scribble over the
            # full-screen UI.
            logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
            from huggingface_hub.utils.tqdm import disable_progress_bars

            disable_progress_bars()

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

    def search(
        self,
        query: SearchQuery,
        limit: int = 30,
        on_wait: Callable[[str], None] | None = None,
    ) -> list[ModelSummary]:
        api = self._reachable_client()

        def ask() -> list[ModelSummary]:
            with _rate_limit_watch(on_wait):
                found = api.list_models(
                    search=query.text.strip() or None,
                    author=query.author.strip() or None,
                    filter=hub_tag(query),
                    num_parameters=hub_num_parameters(query),
                    sort=SORTS.get(query.sort, "downloads"),
                    # Models vLLM cannot serve are dropped after the Hub answers.
                    limit=min(SEARCH_PAGE, limit * 3),
                    expand=SEARCH_FIELDS,
                )
                listed = (summary_of(info) for info in found)
                return keep((m for m in listed if m is not None), query, limit)

        try:
            return self._within_deadline("the search", ask)
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise BackendUnavailable(
                hub_problem("the search", exc)
                if _status(exc) == 429
                else f"the Hub at {self.endpoint} did not answer ({type(exc).__name__}: "
                f"{visible(str(exc)[:160])})"
            ) from exc

    def _within_deadline(self, what: str, ask: Callable[[], _T]) -> _T:
        return within_deadline(self.endpoint, what, ask)

    def details(self, repo_id: str) -> ModelDetails:
        from vtui.core.downloads import needed_files

        api = self._reachable_client()
        try:
            info = self._within_deadline(
                repo_id, lambda: api.model_info(repo_id, files_metadata=True)
            )
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise BackendUnavailable(hub_problem(repo_id, exc)) from exc
        try:
            siblings = {str(s.rfilename): s for s in info.siblings or []}
            needed, skipped = needed_files(sorted(siblings))
            needed_bytes = sum(_count(siblings[n].size) or 0 for n in needed)
        except (TypeError, ValueError, AttributeError) as exc:
            raise BackendUnavailable(
                f"the Hub sent something vtui cannot read for {repo_id}: {type(exc).__name__} "
                "in its file listing"
            ) from exc
        config: dict[str, Any] | None = None
        problem = None
        try:
            config = self._config_json(api, repo_id)
        except BackendUnavailable as exc:
            problem = exc.reason
        listed = summary_of(info)
        if listed is None:
            raise BackendUnavailable(f"the Hub's answer for {visible(repo_id)} is no model listing")
        return ModelDetails(
            repo_id=repo_id,
            quant=listed.quant,
            gated=listed.gated,
            license=_license(getattr(info, "card_data", None), info.tags or ()),
            last_modified=listed.last_modified,
            dtype_parameters=_dtype_parameters(info),
            needed_files=len(needed),
            needed_bytes=needed_bytes,
            skipped=tuple(visible(name) for name in skipped),
            config=config,
            config_problem=problem,
        )

    def plan_download(self, repo_id: str, where: Destination = HUB_CACHE) -> DownloadPlan:
        from vtui.backends.hub.download import plan_download, target_of

        return plan_download(
            repo_id, revision=where.revision, target=target_of(where), endpoint=self.endpoint
        )

    def download(
        self,
        plan: DownloadPlan,
        on_progress: Callable[[Progress], None],
        cancel: threading.Event,
        where: Destination = HUB_CACHE,
    ) -> str:
        from vtui.backends.hub.download import run_download, target_of

        path = run_download(
            plan,
            revision=where.revision,
            target=target_of(where),
            endpoint=self.endpoint,
            on_progress=on_progress,
            cancel=cancel,
        )
        return str(path)

    def local_models(self) -> list[LocalModel]:
        from vtui.backends.files.model_inventory import local_models
        from vtui.locations import model_dirs

        return local_models(model_dirs=model_dirs())

    def delete_local(self, model: LocalModel) -> None:
        from vtui.backends.files.model_inventory import delete_local

        delete_local(model)

    def _config_json(self, api: Any, repo_id: str) -> dict[str, Any]:
        """The repo's config.json, fetched alone into the shared HF cache (where vLLM's
        container and `hf download` find it too); raises BackendUnavailable."""
        from vtui.backends.hub.download import Target

        def fetch() -> Any:
            path = api.hf_hub_download(
                repo_id=repo_id, filename="config.json", cache_dir=Target.default_cache()
            )
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)

        try:
            config = self._within_deadline(f"{repo_id}'s config.json", fetch)
        except BackendUnavailable:
            raise
        except Exception as exc:
            if "EntryNotFound" in type(exc).__name__:
                raise BackendUnavailable(f"{repo_id} has no config.json") from exc
            raise BackendUnavailable(hub_problem(repo_id, exc)) from exc
        if not isinstance(config, dict):
            raise BackendUnavailable(f"{repo_id}: config.json does not hold a JSON object")
        return config

    def checkpoint(self, repo_id: str) -> ModelCheckpoint:
        api = self._reachable_client()
        config = self._config_json(api, repo_id)
        try:
            info = self._within_deadline(
                repo_id, lambda: api.model_info(repo_id, expand=["safetensors"])
            )
            parameters = _dtype_parameters(info)
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise BackendUnavailable(hub_problem(repo_id, exc)) from exc
        return ModelCheckpoint(repo_id, "Hub", config, parameters)
