"""Launching a profile: saved, rendered with its key, run on the engine. One path for the
Launch screen, the Server screen's one-key fix and `vtui up`; a refusal comes back with
the log explainer's cause and fix already in its words, so no caller runs it."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from vtui.backends.engine import PullListener
from vtui.backends.registry import Backends
from vtui.core import labels
from vtui.core.errors import BackendUnavailable, EngineError, ProfileError, VtuiError
from vtui.core.image_pull import PullProgress
from vtui.core.launch_spec import LaunchSpec, run_request, with_setting
from vtui.core.log_explainer import explain
from vtui.core.records import Deployment
from vtui.locations import hf_home


class LaunchFailed(VtuiError):
    """The launch did not start a container; the words say why and, where known, the fix."""


DEFAULT_PORT = 8000


def free_port(backends: Backends, host: str, first: int = DEFAULT_PORT) -> int:
    """The first port from `first` up that nothing on this machine (or in the demo world)
    holds: a second profile need not collide with the first."""
    for port in range(first, min(first + 100, 65536)):
        if not backends.port_in_use(host, port):
            return port
    return first


def new_spec(name: str, model: str, **fields: Any) -> LaunchSpec:
    """A new profile's spec, its HF cache the one this machine's tools share."""
    return LaunchSpec(name=name, model=model, hf_cache=hf_home(), **fields)


def launch(
    backends: Backends,
    spec: LaunchSpec,
    on_pull: PullListener | None = None,
    engine_host: str | None = None,
) -> Deployment:
    """On the Docker host named, else the profile's own (docker_host), else this machine.
    Raises LaunchFailed."""
    from vtui.core.hosts import HostProblem
    from vtui.services.hosts import run_on

    store = backends.profiles()
    try:
        store.put(spec)
        if spec.multinode:
            return _launch_nodes(backends, spec, store.api_key(spec.name), on_pull, engine_host)
        request = run_request(spec, store.api_key(spec.name), os.environ)
        where = engine_host or spec.docker_host or None
        if where is not None:
            return run_on(backends, where, request, on_pull)
        return backends.engine.run(request, on_pull)
    except (ProfileError, EngineError, BackendUnavailable, HostProblem) as exc:
        raise LaunchFailed(_explained(str(exc))) from exc
    except OSError as exc:
        raise LaunchFailed(f"cannot save the profile: {exc.strerror or exc}") from exc


def _launch_nodes(
    backends: Backends,
    spec: LaunchSpec,
    api_key: str,
    on_pull: PullListener | None,
    engine_host: str | None,
) -> Deployment:
    """The head on its host, then a worker on each other: the head waits for them. A node
    that cannot start takes the ones started before it down with it. Returns the head."""
    from vtui.core.hosts import LOCAL
    from vtui.core.multinode import node_requests, problems
    from vtui.services.deployments import down
    from vtui.services.hosts import run_on

    if engine_host:
        spec = replace(spec, docker_host="" if engine_host == LOCAL else engine_host)
    refused = problems(spec)
    if refused:
        raise LaunchFailed("; ".join(f"{field}: {why}" for field, why in refused))
    started: list[Deployment] = []
    for node in node_requests(spec, api_key, os.environ):
        try:
            started.append(run_on(backends, node.host, node.request, on_pull))
        except (EngineError, BackendUnavailable) as exc:
            for deployment in reversed(started):
                with contextlib.suppress(EngineError, BackendUnavailable):
                    down(backends, deployment, timeout=10)
            undone = " (the nodes started before it were stopped)" if started else ""
            raise LaunchFailed(
                _explained(f"{node.role} node on {node.host}: {exc}") + undone
            ) from exc
    return started[0]


def running_for(deployments: Sequence[Deployment], profile: str) -> Deployment | None:
    """The container of this profile that runs now, if one does."""
    for deployment in deployments:
        if deployment.live and deployment.labels.get(labels.PROFILE) == profile:
            return deployment
    return None


def restart_with(
    backends: Backends,
    spec: LaunchSpec,
    running: Deployment,
    on_pull: PullListener | None = None,
) -> Deployment:
    """Stop the profile's running container (SIGTERM, SIGKILL after 30 s), then launch the
    profile as it is now, on the host it ran on. Raises LaunchFailed."""
    try:
        backends.engine.stop(running.container_id, timeout=30)
    except (EngineError, BackendUnavailable) as exc:
        raise LaunchFailed(f"cannot stop {running.name} to restart it: {exc}") from exc
    return launch(backends, spec, on_pull, running.engine_host)


def relaunch_with(backends: Backends, profile: str, flag: str, value: object) -> Deployment:
    """The profile with one setting changed (a fix the explainer offered), saved and run."""
    try:
        spec = with_setting(backends.profiles().load(profile), flag, value)
    except ProfileError as exc:
        raise LaunchFailed(str(exc)) from exc
    return launch(backends, spec)


def _explained(words: str) -> str:
    # The engine's own refusals (no NVIDIA runtime, port taken) have known fixes.
    why = explain([words])
    return f"{words}\n  why: {why.cause}\n  fix: {why.fix}" if why else words


def pull_reporter(image: str, every: float, show: Callable[[PullProgress], None]) -> PullListener:
    """A listener that keeps the pull's progress and shows it at most once per `every`
    seconds: the engine sends an event per layer update, far more than anyone can read."""
    progress = PullProgress(image)
    shown_at = [float("-inf")]

    def listen(event: dict[str, Any]) -> None:
        progress.feed(event)
        if time.monotonic() - shown_at[0] >= every:
            shown_at[0] = time.monotonic()
            show(progress)

    return listen
