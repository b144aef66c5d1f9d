"""A short-lived helper container's job, as vtui asks a host's engine for it: reading the
GPUs, or downloading a model into that host's HF cache. The record is Docker-free; the
engine turns it into a container (docker_engine.DockerEngine.start_helper)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HelperJob:
    job: str  # the helper label's value: what the container is for
    argv: tuple[str, ...]
    name: str | None = None  # a fixed name lets a later vtui find a job still running
    all_gpus: bool = False
    host_pid: bool = False
    # The host's network: a download reaches the Hub (or a mirror) as the host itself does.
    host_network: bool = False
    environment: Mapping[str, str] = field(default_factory=dict)
    binds: Mapping[str, str] = field(default_factory=dict)  # host path -> container path
    # Files put into the container before it starts: a folder -> {relative path: bytes}.
    files: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)
    private_files: frozenset[str] = frozenset()  # relative paths made 0600 (a token)


def tar_of(
    folders: Mapping[str, Mapping[str, bytes]], private: frozenset[str] = frozenset()
) -> bytes:
    """A tar of the files under their folders, to unpack at the root as Docker's
    put_archive does: owned by root, 0644 (0600 for the private ones), no timestamps to
    leak or to vary."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for folder, files in sorted(folders.items()):
            for path, data in sorted(files.items()):
                info = tarfile.TarInfo(f"{folder.strip('/')}/{path}")
                info.size = len(data)
                info.mode = 0o600 if path in private else 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
