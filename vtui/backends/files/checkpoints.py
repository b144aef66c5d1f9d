"""Reading a model's config.json and tensor sizes from disk: a model directory, a bare
config.json, or the shared HF cache. Only safetensors headers are read, never weights."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from vtui.core.errors import CheckpointNotFound
from vtui.core.numbers import whole_number
from vtui.core.records import ModelCheckpoint

# A safetensors header is a little-endian u64 length, then that much JSON.
MAX_HEADER_BYTES = 100 * 1024 * 1024


def safetensors_parameters(path: Path) -> dict[str, int]:
    """Parameters per dtype in one .safetensors file, read from its header alone. The header
    is anyone's to write: CheckpointNotFound says when it cannot be read, never a crash."""
    try:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > MAX_HEADER_BYTES:
                raise ValueError(f"a header of {length:,} bytes is not plausible")
            header = json.loads(handle.read(length))
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
        return _dtype_counts(header)
    except OSError as exc:
        raise CheckpointNotFound(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError, struct.error, RecursionError, OverflowError) as exc:
        raise CheckpointNotFound(
            f"{path.name}: vtui cannot read its safetensors header ({type(exc).__name__}: "
            f"{str(exc)[:120]})"
        ) from None


def _dtype_counts(header: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, tensor in header.items():
        if name == "__metadata__" or not isinstance(tensor, dict):
            continue
        n = 1
        for dim in tensor.get("shape", []):
            if not whole_number(dim) or dim < 0:
                raise ValueError(f"{name}: a shape holds {dim!r}")
            n *= dim
        dtype = str(tensor.get("dtype", "BF16"))[:16]
        counts[dtype] = counts.get(dtype, 0) + n
    return counts


def directory_parameters(directory: Path) -> dict[str, int]:
    total: dict[str, int] = {}
    for shard in sorted(directory.glob("*.safetensors")):
        for dtype, n in safetensors_parameters(shard).items():
            total[dtype] = total.get(dtype, 0) + n
    return total


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointNotFound(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise CheckpointNotFound(f"{path} is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise CheckpointNotFound(f"{path} does not hold a JSON object")
    return data


def local_checkpoint(where: str | Path) -> ModelCheckpoint:
    """A model directory (config.json + *.safetensors) or a path to a config.json."""
    path = Path(where).expanduser()
    if path.is_dir():
        config_file = path / "config.json"
        if not config_file.is_file():
            raise CheckpointNotFound(f"{path} has no config.json")
        config = _read_config(config_file)
        return ModelCheckpoint(str(where), f"directory {path}", config, directory_parameters(path))
    if path.is_file():
        return ModelCheckpoint(str(where), f"file {path}", _read_config(path), {})
    raise CheckpointNotFound(f"{path} does not exist")


def cache_snapshot(hf_home: str | Path, repo_id: str) -> Path | None:
    """The newest snapshot of repo_id in the HF cache that has a config.json."""
    repo = Path(hf_home) / "hub" / ("models--" + repo_id.replace("/", "--"))
    if not repo.is_dir():
        return None
    found = sorted(
        (repo / "snapshots").glob("*/config.json"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    return found[0].parent if found else None


def cached_checkpoint(hf_home: str | Path, repo_id: str) -> ModelCheckpoint | None:
    snapshot = cache_snapshot(hf_home, repo_id)
    if snapshot is None:
        return None
    config = _read_config(snapshot / "config.json")
    return ModelCheckpoint(repo_id, "HF cache", config, directory_parameters(snapshot))
