"""The real machine's facts for `vtui doctor`: /etc/os-release, free disk, /dev/shm, and
what the Docker engine and the Hub answer."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

from vtui.core.doctor import DiskFacts, EngineFacts, GpuRun, HubFacts
from vtui.core.doctor_fixes import Distro, parse_os_release
from vtui.core.terminal_text import visible
from vtui.locations import hf_hub_cache

OS_RELEASE = (Path("/etc/os-release"), Path("/usr/lib/os-release"))


class RealMachine:
    def __init__(self, docker_url: str | None = None, hub_endpoint: str | None = None) -> None:
        self._docker_url = docker_url
        self._hub_endpoint = hub_endpoint
        self._client: Any = None
        self._lock = threading.Lock()

    def distro(self) -> Distro:
        for path in OS_RELEASE:
            try:
                with path.open(encoding="utf-8", errors="replace") as file:
                    return parse_os_release(file.read(64 * 1024))
            except OSError:
                continue
        return Distro()

    def engine(self) -> EngineFacts:
        from vtui.backends.engine.docker_facts import engine_facts

        facts, client = engine_facts(self._docker_url)
        with self._lock:
            self._client = client
        return facts

    def gpu_run(self, image: str | None) -> GpuRun:
        from vtui.backends.engine.docker_facts import gpu_run

        with self._lock:
            client = self._client
        return gpu_run(client, image)

    def disk(self, label: str, path: str) -> DiskFacts:
        # The cache may not exist yet: its first existing parent is where it will grow.
        where = Path(path)
        while not where.exists() and where != where.parent:
            where = where.parent
        try:
            free = shutil.disk_usage(where).free
        except OSError as exc:
            return DiskFacts(label, visible(path), None, exc.strerror or type(exc).__name__)
        return DiskFacts(label, visible(path), free)

    def hub(self, gated_repo: str | None) -> HubFacts:
        from vtui.backends.hub.hub_facts import hub_facts

        return hub_facts(gated_repo, self._hub_endpoint)

    def shm_bytes(self) -> int | None:
        try:
            return shutil.disk_usage("/dev/shm").total
        except OSError:
            return None

    def hf_cache(self) -> str:
        return str(hf_hub_cache(os.environ))
