"""The deployments on the engine: finding one by a name a user types, and stopping,
restarting or removing it, for the Server screen and `vtui logs`/`down`/`chat`/`bench`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vtui.backends.registry import Backends
from vtui.core import labels
from vtui.core.records import Deployment

STOP_SECONDS = 30


def find(deployments: Sequence[Deployment], name: str) -> Deployment | None:
    """By container name, then profile name, then id prefix (4+ characters)."""
    by_name = [d for d in deployments if d.name == name]
    by_profile = [d for d in deployments if d.profile == name or d.name == f"vtui-{name}"]
    by_id = [d for d in deployments if len(name) >= 4 and d.container_id.startswith(name)]
    for found in (by_name, by_profile, by_id):
        if found:
            return found[0]
    return None


def workers_of(deployments: Sequence[Deployment], head: Deployment) -> list[Deployment]:
    """The Ray workers of a head vtui started over several hosts (empty for any other)."""
    if head.labels.get(labels.NODE) != labels.HEAD or not head.group:
        return []
    return [d for d in deployments if d.worker_role is not None and d.group == head.group]


def _workers(backends: Backends, head: Deployment) -> list[Deployment]:
    if head.labels.get(labels.NODE) != labels.HEAD:
        return []
    from vtui.services.hosts import survey

    return workers_of(survey(backends)[0], head)


def stop(backends: Backends, deployment: Deployment, timeout: int = STOP_SECONDS) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds; a head's workers after it. Raises
    EngineError."""
    backends.engine.stop(deployment.container_id, timeout=timeout)
    _stop_live(backends, _workers(backends, deployment), timeout)


def _stop_live(backends: Backends, workers: Sequence[Deployment], timeout: int) -> None:
    for worker in workers:
        if worker.live:
            backends.engine.stop(worker.container_id, timeout=timeout)


def restart(backends: Backends, deployment: Deployment, timeout: int = STOP_SECONDS) -> None:
    """A head first, then its workers, which join it again as it waits for them."""
    backends.engine.restart(deployment.container_id, timeout=timeout)
    for worker in _workers(backends, deployment):
        backends.engine.restart(worker.container_id, timeout=timeout)


def remove(backends: Backends, deployment: Deployment) -> None:
    """Raises EngineRefused while it runs; a head's workers go with it, those stopped."""
    workers = _workers(backends, deployment)
    backends.engine.remove(deployment.container_id)
    for worker in workers:
        if not worker.live:
            backends.engine.remove(worker.container_id)


@dataclass(frozen=True)
class Downed:
    stopped: bool  # it was running and was stopped
    removed: bool
    why_kept: str | None  # when not removed: asked to keep it, or not vtui's
    workers: int = 0  # a Ray head's workers, on their hosts, that went with it


def down(
    backends: Backends, deployment: Deployment, timeout: int = STOP_SECONDS, keep: bool = False
) -> Downed:
    """As `docker compose down`: stop, then remove, except containers vtui did not start.
    An attached endpoint is only forgotten: the server itself is left running."""
    if deployment.runtime == "endpoint":
        remove(backends, deployment)
        return Downed(False, True, None)
    workers = _workers(backends, deployment)  # read once: stop and remove use the same list
    if deployment.live:
        backends.engine.stop(deployment.container_id, timeout=timeout)
    _stop_live(backends, workers, timeout)  # a crashed head's workers may still run
    if keep:
        return Downed(deployment.live, False, "kept as asked", len(workers))
    if not deployment.managed:
        return Downed(deployment.live, False, "vtui did not start it")
    backends.engine.remove(deployment.container_id)
    for worker in workers:
        backends.engine.remove(worker.container_id)
    return Downed(deployment.live, True, None, len(workers))
