"""What to download of a model repo for vLLM, whether it fits on the disk, and how a
download's progress reads. Pure: the Hub and the disk are the backends' business."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import asdict, dataclass
from typing import Any

from vtui.core.units import human_bytes

# What vLLM reads: weights, configs, tokenizer files, chat templates, processor configs.
NEEDED = (
    "*.safetensors", "*.safetensors.index.json", "config.json", "generation_config.json",
    "tokenizer*", "special_tokens_map.json", "added_tokens.json", "vocab.*", "merges.txt",
    "*.model", "*.tiktoken", "chat_template*", "*.jinja", "preprocessor_config.json",
    "processor_config.json", "params.json", "quant_config.json", "quantize_config.json",
    "hf_quant_config.json",
)  # fmt: skip
PYTORCH_WEIGHTS = ("*.bin", "*.bin.index.json", "*.pt", "*.pth")
# Copies of the weights in other formats or layouts, never read by vLLM.
NEVER = ("original/*", "*/original/*", "*.gguf", "*.onnx", "*.msgpack", "*.h5", "*.ot")
# Room left free after a download, so the machine does not run out of disk entirely.
DISK_MARGIN_BYTES = 1024**3


@dataclass(frozen=True)
class LocalModel:
    """A model already on this machine."""

    name: str  # the repo id, or the directory's name
    path: str  # a snapshot directory or the model directory
    where: str  # HF_CACHE, or the model directory it is in
    size_bytes: int
    revision: str  # commit for cached repos, "" for plain directories
    last_used: float | None  # seconds since the epoch, from file access times

    @property
    def launch_name(self) -> str:
        """What the Launch form's model field takes: the repo id for the HF cache (the vLLM
        container mounts it and finds the snapshot), the directory otherwise."""
        return self.name if self.where == HF_CACHE else self.path

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


HF_CACHE = "HF cache"


@dataclass(frozen=True)
class Destination:
    """Where a download goes: which revision, into the HF cache (a given one, else the
    environment's) or into a plain local directory."""

    revision: str = "main"
    local_dir: str | None = None
    cache_dir: str | None = None


HUB_CACHE = Destination()  # main, into the environment's HF cache


@dataclass(frozen=True)
class RepoFile:
    path: str
    size: int
    blob: str  # the Hub's blob id: sha256 for LFS files, git sha1 otherwise
    have: int = 0  # bytes already on disk (complete or partial)

    @property
    def missing(self) -> int:
        return max(0, self.size - self.have)

    @property
    def digest_kind(self) -> str | None:
        """How the blob id checks the bytes: "sha256" (an LFS file's oid), "git-sha1" (git's
        blob hash of a small file), or None where the Hub gave no digest to check."""
        if re.fullmatch(r"[0-9a-f]{64}", self.blob):
            return "sha256"
        if re.fullmatch(r"[0-9a-f]{40}", self.blob):
            return "git-sha1"
        return None


@dataclass(frozen=True)
class DownloadPlan:
    repo_id: str
    commit: str
    files: tuple[RepoFile, ...]
    skipped: tuple[str, ...] = ()  # in the repo but not needed by vLLM

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def missing_bytes(self) -> int:
        return sum(f.missing for f in self.files)


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(path, p) for p in patterns)


def needed_files(paths: list[str]) -> tuple[list[str], list[str]]:
    """(needed, skipped): safetensors and what goes with them; PyTorch .bin weights only
    when the repo has no safetensors, as vLLM then loads those."""
    usable = [p for p in paths if not _matches(p, NEVER)]
    has_safetensors = any(p.endswith(".safetensors") for p in usable)
    wanted = NEEDED if has_safetensors else NEEDED + PYTORCH_WEIGHTS
    needed = [p for p in usable if _matches(p.rsplit("/", 1)[-1], wanted) or _matches(p, wanted)]
    skipped = [p for p in paths if p not in needed]
    return needed, skipped


def weights_problem(repo_id: str, needed: list[str], paths: list[str]) -> str | None:
    """Why a repo holds nothing vtui would download for vLLM; None when it has weights."""
    if any(p.endswith((".safetensors", ".bin", ".pt", ".pth")) for p in needed):
        return None
    if any(p.endswith(".gguf") for p in paths):
        return (
            f"{repo_id} holds GGUF files only: vLLM's GGUF support is experimental and loads "
            "one file (`hf download REPO FILE.gguf`); pick a safetensors variant to serve it"
        )
    return f"{repo_id} has no safetensors or PyTorch weights for vLLM to load"


def disk_problem(plan: DownloadPlan, free_bytes: int, where: str) -> str | None:
    """Why the download must not start for lack of disk, with the numbers; None if it fits."""
    need = plan.missing_bytes
    if need + DISK_MARGIN_BYTES <= free_bytes:
        return None
    return (
        f"{plan.repo_id} needs {human_bytes(need)} more on {where}, which has "
        f"{human_bytes(free_bytes)} free (vtui keeps {human_bytes(DISK_MARGIN_BYTES)} spare): "
        "free some space or choose another directory"
    )


def human_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@dataclass(frozen=True)
class Progress:
    """One moment of a download, as the UI and the CLI show it."""

    repo_id: str
    done_bytes: int
    total_bytes: int
    file: str = ""
    file_done: int = 0
    file_total: int = 0
    rate: float = 0.0  # bytes per second, smoothed
    finished: bool = False

    @property
    def fraction(self) -> float:
        return 1.0 if self.total_bytes <= 0 else min(1.0, self.done_bytes / self.total_bytes)

    @property
    def eta_seconds(self) -> float | None:
        if self.rate <= 0:
            return None
        return (self.total_bytes - self.done_bytes) / self.rate

    def parts(self) -> dict[str, str]:
        """The line's parts by name, in the order they are shown: bytes, rate, eta, file."""
        parts = {
            "bytes": f"{human_bytes(self.done_bytes)} / {human_bytes(self.total_bytes)} "
            f"({self.fraction:.0%})"
        }
        if self.finished:
            return {"bytes": parts["bytes"] + " · done"}
        if self.rate > 0:
            parts["rate"] = f"{human_bytes(self.rate)}/s"
        eta = self.eta_seconds
        if eta is not None:
            parts["eta"] = f"ETA {human_duration(eta)}"
        if self.file:
            parts["file"] = self.file
        return parts

    def line(self) -> str:
        """ "3.2 GB / 16.4 GB (19%) · 85.0 MB/s · ETA 2m35s · model-00002-of-00004.safetensors"."""
        return " · ".join(self.parts().values())


class RateMeter:
    """Bytes per second, smoothed so one slow chunk does not swing the ETA."""

    def __init__(self, smoothing: float = 0.3) -> None:
        self.smoothing = smoothing
        self.rate = 0.0
        self._last: tuple[float, int] | None = None

    def update(self, now: float, done: int) -> float:
        if self._last is not None:
            then, before = self._last
            elapsed = now - then
            if elapsed > 0:
                instant = (done - before) / elapsed
                self.rate = (
                    instant
                    if self.rate == 0
                    else self.smoothing * instant + (1 - self.smoothing) * self.rate
                )
        self._last = (now, done)
        return self.rate
