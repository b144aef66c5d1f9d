"""Host PIDs to containers: the process's cgroup first, then the engine's own process list.

The cgroup answers for free wherever /proc shows the process. Where it cannot (vtui in a
container of its own, a runtime that hides the id), `docker top` of each running vLLM
container lists its host PIDs; that costs an API call per container, so it is kept a while.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from vtui.core.errors import EngineError
from vtui.core.gpu_owners import container_in_cgroup

TOP_KEEP_SECONDS = 10.0


def container_by_cgroup(pid: int, proc: Path = Path("/proc")) -> str | None:
    try:
        return container_in_cgroup((proc / str(pid) / "cgroup").read_text())
    except OSError:  # gone, or another PID namespace
        return None


class ProcessOwners:
    def __init__(
        self,
        running: Callable[[], Iterable[str]],
        pids_of: Callable[[str], Collection[int]],
        clock: Callable[[], float] = time.monotonic,
        proc: Path = Path("/proc"),
    ) -> None:
        """running: ids of the running containers worth asking; pids_of: one's host PIDs."""
        self._running, self._pids_of, self._clock = running, pids_of, clock
        self._proc = proc
        self._top: dict[str, tuple[float, Collection[int]]] = {}

    def owners(self, pids: Collection[int]) -> dict[int, str]:
        found = {pid: c for pid in pids if (c := container_by_cgroup(pid, self._proc)) is not None}
        missing = set(pids) - found.keys()
        if missing:
            running = list(self._running())
            # Containers that stopped leave the cache, so it holds no more than what runs.
            self._top = {c: kept for c, kept in self._top.items() if c in running}
            for container_id in running:
                for pid in self._listed_pids(container_id) & missing:
                    found[pid] = container_id
        return found

    def _listed_pids(self, container_id: str) -> set[int]:
        now = self._clock()
        kept = self._top.get(container_id)
        if kept is None or now - kept[0] > TOP_KEEP_SECONDS:
            try:
                kept = (now, self._pids_of(container_id))
            except EngineError:  # gone, or stopped since it was listed
                kept = (now, ())
            self._top[container_id] = kept
        return set(kept[1])
