"""Every folder vtui reads or writes, in one place (as posting's and elia's locations.py).

The real ones follow the XDG base directories and the HF cache's own variables, read when
asked (tests and users change the environment between calls). The demo's all lie in one
private folder per seed and GPU count, so nothing a demo run does reaches the user's own
folders or the current directory, and every `vtui --demo ...` command meets the same world.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Where the seed's `hf download --local-dir` puts models.
DEFAULT_MODEL_DIR = Path("/data/models")


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME", "~")).expanduser()


def config_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Profiles and their keys: $XDG_CONFIG_HOME/vtui, default ~/.config/vtui."""
    return Path(env.get("XDG_CONFIG_HOME") or _home(env) / ".config") / "vtui"


def state_dir(env: Mapping[str, str] = os.environ) -> Path:
    """What vtui writes for the user to read later (saved logs, load-test runs):
    $XDG_STATE_HOME/vtui, default ~/.local/state/vtui."""
    return Path(env.get("XDG_STATE_HOME") or _home(env) / ".local" / "state") / "vtui"


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Saved conversations: $XDG_DATA_HOME/vtui, default ~/.local/share/vtui."""
    return Path(env.get("XDG_DATA_HOME") or _home(env) / ".local" / "share") / "vtui"


def hf_home(env: Mapping[str, str] = os.environ) -> str:
    """The HF home as huggingface_hub reads it: $HF_HOME, default ~/.cache/huggingface."""
    home = env.get("HF_HOME") or str(_home(env) / ".cache" / "huggingface")
    return str(Path(home).expanduser().resolve())


def hf_hub_cache(env: Mapping[str, str] = os.environ) -> Path:
    """The HF cache's repo folders: $HF_HUB_CACHE, default $HF_HOME/hub."""
    return Path(env.get("HF_HUB_CACHE") or Path(hf_home(env)) / "hub")


def model_dirs() -> list[Path]:
    """The model directories listed beside the HF cache when none are named."""
    return [DEFAULT_MODEL_DIR] if DEFAULT_MODEL_DIR.is_dir() else []


def demo_home(seed: int, gpu_count: int, env: Mapping[str, str] = os.environ) -> Path:
    """The demo world's folder: $TMPDIR/vtui-demo-UID/seed-N-gpus-M, kept between runs so
    `vtui --demo up q` and then `vtui --demo ps` see the same containers."""
    base = Path(env.get("TMPDIR") or "/tmp") / f"vtui-demo-{os.getuid()}"
    return base / f"seed-{seed}-gpus-{gpu_count}"


@dataclass(frozen=True)
class Locations:
    """The folders one run of vtui uses; the registry hands out one set, real or demo."""

    config: Path  # profiles/ and keys/
    state: Path  # logs/ and bench/
    data: Path  # chats/
    output: Path  # where a file the user asks for goes when they name no folder
    demo_world: Path | None = None  # the demo's journal of containers; None when real

    @property
    def chats(self) -> Path:
        return self.data / "chats"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def bench_runs(self) -> Path:
        return self.state / "bench"


def user_locations(env: Mapping[str, str] = os.environ) -> Locations:
    return Locations(
        config=config_dir(env), state=state_dir(env), data=data_dir(env), output=Path.cwd()
    )


def demo_locations(home: Path) -> Locations:
    return Locations(
        config=home / "config",
        state=home / "state",
        data=home / "data",
        output=home / "output",
        demo_world=home / "world.jsonl",
    )
