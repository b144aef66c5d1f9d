"""The container engine interface: run, watch and stop vLLM containers."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import Any, Protocol

from vtui.core.records import Deployment, LogLine, RunRequest

# Called with each event of an image pull, as the engine reports it.
PullListener = Callable[[dict[str, Any]], None]


class LogFollow(Protocol):
    """A container's log as it is written; iteration ends when the container stops or the
    engine goes away. close() ends it from another thread."""

    def __iter__(self) -> Iterator[LogLine]: ...

    def close(self) -> None: ...


class ContainerEngine(Protocol):
    @property
    def label(self) -> str:
        """Shown to the user: which engine this is ("Docker Engine 28.2", "simulated engine")."""
        ...

    def now(self) -> float:
        """The engine's clock in seconds, the one log stamps and start times are on."""
        ...

    def list_deployments(self) -> list[Deployment]:
        """vtui's containers (those with its labels) and any other container running a vLLM
        image, running or not. Raises BackendUnavailable."""
        ...

    def inspect(self, container_id: str) -> Deployment:
        """One container as it is now. Raises NoSuchContainer when it is gone."""
        ...

    def log_lines(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> list[LogLine]:
        """The container's log (stdout and stderr), from `since_ns` on (inclusive); only
        its last `tail` lines when given (the engine reads no more of a huge log). Each
        line is cut to a bound and its control characters shown, not obeyed."""
        ...

    def logs(self, container_id: str, tail: int = 1000) -> list[str]:
        """The container's last `tail` log lines (0: all), without stamps."""
        ...

    def follow_logs(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> LogFollow:
        """The log from `since_ns` on (inclusive), its last `tail` lines only when given,
        then each line as it comes."""
        ...

    def run(self, request: RunRequest, on_pull: PullListener | None = None) -> Deployment:
        """Create and start a container, pulling its image first when it is missing.

        Refuses (EngineRefused, with the reason) when a container of the same name runs or
        another running container publishes the same host port; a stopped container of
        vtui's with the same name is replaced.
        """
        ...

    def containers_of(self, pids: Collection[int]) -> dict[int, str]:
        """The container (id) each of these host PIDs runs in, for those the engine can tell.
        Raises BackendUnavailable."""
        ...

    def api_key(self, container_id: str) -> str | None:
        """The key the container's server demands (its VLLM_API_KEY), for vtui's own requests.

        Never shown: the UI passes it to the endpoint client and nowhere else.
        """
        ...

    def stop(self, container_id: str, timeout: int = 10) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds."""
        ...

    def restart(self, container_id: str, timeout: int = 10) -> None: ...

    def remove(self, container_id: str) -> None:
        """Remove a stopped container. Raises EngineRefused while it runs."""
        ...
