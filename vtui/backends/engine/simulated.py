"""The demo's container engine: containers live in the DemoWorld, logs replay vLLM's start-up."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator

from vtui.backends.engine import PullListener
from vtui.core.errors import NoSuchContainer
from vtui.core.log_buffer import held_line
from vtui.core.records import Deployment, LogLine, RunRequest
from vtui.sim.demo_world import DemoWorld

FOLLOW_POLL_SECONDS = 0.2


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


class SimulatedLogFollow:
    """The world's log of one container, as it is written; ends when the container stops."""

    def __init__(
        self, world: DemoWorld, container_id: str, since_ns: int | None, tail: int | None = None
    ) -> None:
        self._world, self._id = world, container_id
        self._since = since_ns or 0
        self._tail = tail
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[LogLine]:
        sent = 0  # lines at or after `since` already given
        if self._tail is not None:  # the backlog before its last `tail` lines is skipped
            stamps = [at for at, _text in self._world.log_entries(self._id)]
            sent = max(0, sum(1 for at in stamps if _ns(at) >= self._since) - self._tail)
        while not self._closed.is_set():
            try:
                entries = self._world.log_entries(self._id)
                live = self._world.deployment(self._id).live
            except NoSuchContainer:
                return
            fresh = [(at, text) for at, text in entries if _ns(at) >= self._since]
            # Only the lines not yet given are held as the real engine holds them.
            for at, text in fresh[sent:]:
                yield LogLine(_ns(at), held_line(text))
            sent = len(fresh)
            if not live:
                return
            self._closed.wait(FOLLOW_POLL_SECONDS)

    def close(self) -> None:
        self._closed.set()


class SimulatedEngine:
    label = "simulated engine"

    def __init__(self, world: DemoWorld) -> None:
        self.world = world

    def now(self) -> float:
        return self.world.clock()

    def list_deployments(self) -> list[Deployment]:
        return self.world.deployments()

    def inspect(self, container_id: str) -> Deployment:
        return self.world.deployment(container_id)

    def log_lines(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> list[LogLine]:
        since = since_ns or 0
        # Held as the real engine holds them: cut to a bound, controls shown.
        lines = [
            LogLine(_ns(at), held_line(text))
            for at, text in self.world.log_entries(container_id)
            if _ns(at) >= since
        ]
        return lines[-tail:] if tail else lines

    def logs(self, container_id: str, tail: int = 1000) -> list[str]:
        return [line.text for line in self.log_lines(container_id, tail=tail or None)]

    def follow_logs(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> SimulatedLogFollow:
        self.world.deployment(container_id)  # NoSuchContainer now, as the real engine does
        return SimulatedLogFollow(self.world, container_id, since_ns, tail)

    def run(self, request: RunRequest, on_pull: PullListener | None = None) -> Deployment:
        return self.world.run(request)

    def containers_of(self, pids: Collection[int]) -> dict[int, str]:
        return {pid: c for pid in pids if (c := self.world.container_of_pid(pid)) is not None}

    def api_key(self, container_id: str) -> str | None:
        return self.world.api_key(container_id)

    def stop(self, container_id: str, timeout: int = 10) -> None:
        self.world.stop(container_id)

    def restart(self, container_id: str, timeout: int = 10) -> None:
        self.world.restart(container_id)

    def remove(self, container_id: str) -> None:
        self.world.remove(container_id)
