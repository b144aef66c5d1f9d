"""Models already on this machine: the HF cache (what `hf download` and vLLM's container
fill) and plain model directories such as /data/models/NAME."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LocalModel:
    name: str  # the repo id, or the directory's name
    path: str  # what --model takes: a snapshot directory or the model directory
    where: str  # "HF cache" or the model directory it is in
    size_bytes: int
    revision: str  # commit for cached repos, "" for plain directories
    last_used: float | None  # seconds since the epoch, from file access times

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


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
                where="HF cache",
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
