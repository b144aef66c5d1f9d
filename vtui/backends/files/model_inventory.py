"""Models already on this machine: the HF cache (what `hf download` and vLLM's container
fill) and plain model directories such as /data/models/NAME."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from vtui.core.downloads import HF_CACHE, LocalModel
from vtui.core.errors import DownloadError


def _cached(cache_dir: Path | None) -> list[LocalModel]:
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(cache_dir)
    except CacheNotFound:
        return []
    found = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        newest = max(repo.revisions, key=lambda r: r.last_modified, default=None)
        if newest is None:
            continue
        found.append(
            LocalModel(
                name=repo.repo_id,
                path=str(newest.snapshot_path),
                where=HF_CACHE,
                size_bytes=repo.size_on_disk,
                revision=newest.commit_hash,
                last_used=repo.last_accessed,
            )
        )
    return found


def _directory_models(model_dirs: Iterable[Path]) -> list[LocalModel]:
    found = []
    for base in model_dirs:
        if not base.is_dir():
            continue
        for entry in sorted(base.iterdir()):
            if not (entry / "config.json").is_file():
                continue
            files = [f for f in entry.rglob("*") if f.is_file()]
            found.append(
                LocalModel(
                    name=entry.name,
                    path=str(entry),
                    where=str(base),
                    size_bytes=sum(f.stat().st_size for f in files),
                    revision="",
                    last_used=max((f.stat().st_atime for f in files), default=None),
                )
            )
    return found


def local_models(
    *, cache_dir: Path | None = None, model_dirs: Iterable[Path] = ()
) -> list[LocalModel]:
    """Every model found, largest first; cache_dir None is HF_HUB_CACHE, as for `hf`."""
    models = _cached(cache_dir) + _directory_models(model_dirs)
    return sorted(models, key=lambda m: m.size_bytes, reverse=True)


def delete_local(model: LocalModel, *, cache_dir: Path | None = None) -> None:
    """Removes a model from disk: every cached revision of the repo (as `hf cache delete`
    does), or the model's directory."""
    if model.where == HF_CACHE:
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir(cache_dir)
        hashes = [
            revision.commit_hash
            for repo in info.repos
            if repo.repo_id == model.name and repo.repo_type == "model"
            for revision in repo.revisions
        ]
        if not hashes:
            raise DownloadError(f"{model.name} is no longer in the HF cache")
        info.delete_revisions(*hashes).execute()
        return
    path = Path(model.path)
    if not (path / "config.json").is_file() or path.parent != Path(model.where):
        raise DownloadError(f"{path} does not look like a model directory: not deleting it")
    shutil.rmtree(path)
