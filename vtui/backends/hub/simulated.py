"""The demo's hub: the catalogue of real model ids, searched the way the Hub searches."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from vtui.core.downloads import (
    HF_CACHE,
    HUB_CACHE,
    Destination,
    DownloadPlan,
    LocalModel,
    Progress,
    RateMeter,
    RepoFile,
    weights_problem,
)
from vtui.core.errors import BackendUnavailable, Cancelled, DownloadError
from vtui.core.model_details import ModelDetails
from vtui.core.model_search import SearchQuery, keep, quantization_of
from vtui.core.records import ModelCheckpoint, ModelSummary
from vtui.sim.catalogue import CATALOGUE, SimModel, find

# The demo fetches nothing; it walks through a download at this pace, so a 16 GB model
# takes a few seconds.
DEMO_BYTES_PER_SECOND = 4e9
DEMO_TICK_S = 0.1
DEMO_CACHED = "Qwen/Qwen2.5-7B-Instruct"  # the model the demo's container serves
DEMO_LAST_USED = 1_790_000_000.0  # a fixed time, so screenshots do not change


def summary(model: SimModel) -> ModelSummary:
    return ModelSummary(
        repo_id=model.repo_id,
        pipeline_tag=model.pipeline_tag,
        downloads=model.downloads,
        likes=model.likes,
        params_billions=model.params_billions,
        size_bytes=model.size_bytes,
        max_context=model.max_context,
        quant=quantization_of(model.repo_id, model.tags),
        gated=model.gated,
        last_modified=model.updated,
        has_safetensors="safetensors" in model.tags,
    )


# How the demo orders a search; "trending" weighs likes against downloads, as a stand-in
# for the Hub's recent-activity score.
_SORT_KEYS: dict[str, Callable[[SimModel], Any]] = {
    "downloads": lambda m: m.downloads,
    "likes": lambda m: m.likes,
    "trending": lambda m: m.likes * 1000 + m.downloads // 1000,
    "updated": lambda m: m.updated,
}


def _model(repo_id: str) -> SimModel:
    for model in CATALOGUE:
        if model.repo_id == repo_id:
            return model
    raise DownloadError(f"{repo_id}: no such model on the simulated Hub")


class SimulatedHub:
    label = "simulated Hub"
    hf_home: str | None = None  # the demo never reads this machine's HF cache

    def __init__(self, pause: Callable[[float], None] = time.sleep) -> None:
        self.pause = pause
        # Bytes on disk per repo, as partial files would keep them; the demo's running
        # model is there from the start.
        self.downloaded: dict[str, int] = {}
        self.downloaded[DEMO_CACHED] = self.plan_download(DEMO_CACHED).total_bytes

    def plan_download(self, repo_id: str, where: Destination = HUB_CACHE) -> DownloadPlan:
        model = _model(repo_id)
        if model.quant == "GGUF":
            raise DownloadError(
                weights_problem(repo_id, [], [f"{repo_id}-Q4_K_M.gguf"]) or "no weights vLLM reads"
            )
        shard = model.size_bytes // model.shards
        files = [RepoFile("config.json", 1_000, "c"), RepoFile("tokenizer.json", 7_000_000, "t")]
        files += [
            RepoFile(f"model-{i:05d}-of-{model.shards:05d}.safetensors", shard, f"s{i}")
            for i in range(1, model.shards + 1)
        ]
        have = self.downloaded.get(repo_id, 0)
        kept = []
        for f in files:
            kept.append(RepoFile(f.path, f.size, f.blob, min(f.size, have)))
            have = max(0, have - f.size)
        return DownloadPlan(repo_id, "0" * 40, tuple(kept), ("original/consolidated.pth",))

    def download(
        self,
        plan: DownloadPlan,
        on_progress: Callable[[Progress], None],
        cancel: threading.Event,
        where: Destination = HUB_CACHE,
    ) -> str:
        done = plan.total_bytes - plan.missing_bytes
        meter = RateMeter()
        clock = 0.0
        for f in plan.files:
            file_done = f.have
            while file_done < f.size:
                if cancel.is_set():
                    self.downloaded[plan.repo_id] = done
                    raise Cancelled()
                step = min(f.size - file_done, int(DEMO_BYTES_PER_SECOND * DEMO_TICK_S))
                file_done += step
                done += step
                clock += DEMO_TICK_S
                self.pause(DEMO_TICK_S)
                rate = meter.update(clock, done)
                on_progress(
                    Progress(plan.repo_id, done, plan.total_bytes, f.path, file_done, f.size, rate)
                )
        self.downloaded[plan.repo_id] = plan.total_bytes
        on_progress(Progress(plan.repo_id, done, plan.total_bytes, finished=True))
        folder = "models--" + plan.repo_id.replace("/", "--")
        return f"/srv/hf-cache/hub/{folder}/snapshots/{plan.commit}"

    def local_models(self) -> list[LocalModel]:
        found = []
        for repo_id, have in self.downloaded.items():
            plan = self.plan_download(repo_id)
            if have >= plan.total_bytes:
                folder = "models--" + repo_id.replace("/", "--")
                path = f"/srv/hf-cache/hub/{folder}/snapshots/{plan.commit}"
                found.append(LocalModel(repo_id, path, HF_CACHE, have, plan.commit, DEMO_LAST_USED))
        return sorted(found, key=lambda m: m.size_bytes, reverse=True)

    def delete_local(self, model: LocalModel) -> None:
        if self.downloaded.pop(model.name, None) is None:
            raise DownloadError(f"{model.name} is no longer in the HF cache")

    def search(
        self,
        query: SearchQuery,
        limit: int = 30,
        on_wait: Callable[[str], None] | None = None,
    ) -> list[ModelSummary]:
        needle = query.text.strip().lower()
        author = query.author.strip().lower()
        found = [
            m
            for m in CATALOGUE
            if needle in m.repo_id.lower()
            and (not author or m.repo_id.lower().startswith(author + "/"))
        ]
        found.sort(key=_SORT_KEYS.get(query.sort, _SORT_KEYS["downloads"]), reverse=True)
        return keep((summary(m) for m in found), query, limit)

    def details(self, repo_id: str) -> ModelDetails:
        from vtui.sim.model_configs import config_json, dtype_parameters  # only when asked

        model = find(repo_id)
        if model.repo_id != repo_id:
            raise BackendUnavailable(f"{repo_id}: no such model on the simulated Hub")
        files = [] if model.quant == "GGUF" else list(self.plan_download(repo_id).files)
        return ModelDetails(
            repo_id=repo_id,
            quant=quantization_of(repo_id, model.tags),
            gated=model.gated,
            license=model.license,
            last_modified=model.updated,
            dtype_parameters=dtype_parameters(model),
            needed_files=len(files),
            needed_bytes=sum(f.size for f in files),
            skipped=("original/consolidated.pth",) if files else (),
            config=None if model.quant == "GGUF" else config_json(model),
            config_problem="GGUF repos carry no config.json" if model.quant == "GGUF" else None,
        )

    def checkpoint(self, repo_id: str) -> ModelCheckpoint:
        from vtui.sim.model_configs import config_json, dtype_parameters  # only when asked

        for model in CATALOGUE:
            if model.repo_id == repo_id and model.quant == "GGUF":
                raise BackendUnavailable(f"{repo_id}: GGUF repos carry no config.json")
            if model.repo_id == repo_id:
                return ModelCheckpoint(
                    repo_id, "simulated Hub", config_json(model), dtype_parameters(model)
                )
        raise BackendUnavailable(f"{repo_id}: no such model on the simulated Hub")
