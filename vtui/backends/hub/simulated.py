"""The demo's hub: the catalogue of real model ids, searched the way the Hub searches."""

from __future__ import annotations

from vtui.core.records import BackendUnavailable, ModelCheckpoint, ModelSummary
from vtui.sim.catalogue import CATALOGUE, SimModel


def summary(model: SimModel) -> ModelSummary:
    return ModelSummary(
        repo_id=model.repo_id,
        pipeline_tag=model.pipeline_tag,
        downloads=model.downloads,
        likes=model.likes,
        params_billions=model.params_billions,
        size_bytes=model.size_bytes,
        max_context=model.max_context,
    )


class SimulatedHub:
    label = "simulated Hub"

    def search(self, query: str, limit: int = 30) -> list[ModelSummary]:
        needle = query.strip().lower()
        found = [m for m in CATALOGUE if needle in m.repo_id.lower()]
        found.sort(key=lambda m: m.downloads, reverse=True)
        return [summary(m) for m in found[:limit]]

    def checkpoint(self, repo_id: str) -> ModelCheckpoint:
        from vtui.sim.model_configs import config_json, dtype_parameters  # only when asked

        for model in CATALOGUE:
            if model.repo_id == repo_id:
                return ModelCheckpoint(
                    repo_id, "simulated Hub", config_json(model), dtype_parameters(model)
                )
        raise BackendUnavailable(f"{repo_id}: no such model on the simulated Hub")
