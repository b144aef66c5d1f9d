"""What both front ends do with Docker hosts: list them with their state, pick one by
name, start a profile on one, and keep a command to one host's deployments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from vtui.core.fleet import FleetRow
from vtui.core.hosts import LOCAL, Host, HostProblem
from vtui.core.records import Deployment

if TYPE_CHECKING:
    from vtui.backends.engine import PullListener
    from vtui.backends.hosts.engines import HostState
    from vtui.backends.registry import Backends
    from vtui.core.records import RunRequest


def known_hosts(backends: Backends) -> list[Host]:
    layer = backends.hosts
    if layer is None:
        return [Host(LOCAL, "", "local")]
    return [layer.host_states()[0].host, *(r.host for r in layer.remotes.values())]


def host_names(backends: Backends) -> list[str]:
    return [host.name for host in known_hosts(backends)]


def next_host(backends: Backends, now: str) -> str:
    """The host after `now`, round the list (this machine's after the last): what `h`
    moves the host in focus to."""
    names = host_names(backends)
    return names[(names.index(now) + 1) % len(names)] if now in names else LOCAL


def checked_host(backends: Backends, name: str | None) -> str | None:
    """The host name as given, once it is known to be one. Raises HostProblem."""
    if name is None:
        return None
    from vtui.core.hosts import pick

    return pick(known_hosts(backends), name).name


def be_patient(backends: Backends) -> None:
    """A one-shot command waits for each host up to its deadline on every listing (the TUI
    shows a slow host's last answer instead, and its next)."""
    if backends.hosts is not None:
        from vtui.backends.hosts.engines import REMOTE_TIMEOUT_S

        backends.hosts.wait_s = REMOTE_TIMEOUT_S + 1


def survey(backends: Backends) -> tuple[list[Deployment], list[HostState]]:
    """Every host's deployments and every host's state (a command, made patient, waits for
    each host; the TUI gets a slow host's last answer). Raises BackendUnavailable when this
    machine's engine is the only host and did not answer."""
    layer = backends.hosts
    deployments = backends.engine.list_deployments()
    states = layer.host_states() if layer is not None else []
    return deployments, states


def on_host(deployments: Sequence[Deployment], host: str | None) -> list[Deployment]:
    return [d for d in deployments if host is None or d.engine_host == host]


def run_on(
    backends: Backends, host: str, request: RunRequest, on_pull: PullListener | None = None
) -> Deployment:
    if backends.hosts is None:
        if host != LOCAL:
            raise HostProblem(f"no host called {host!r} here")
        return backends.engine.run(request, on_pull)
    return backends.hosts.run_on(host, request, on_pull)


FLEET_WAIT_S = 40.0  # a cold helper container on a slow host, and then some


def fleet(backends: Backends) -> list[FleetRow]:
    """Every host's GPUs summed up and its deployments, each host read at once and each
    bounded: one that does not answer in time is a row saying so."""
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import wait as wait_for

    from vtui.core.errors import BackendUnavailable
    from vtui.core.fleet import fleet_row
    from vtui.services.gpu_feed import read_host_gpus

    deployments, states = survey(backends)
    names = [s.host.name for s in states] or [LOCAL]
    counts = {name: len(on_host(deployments, name)) for name in names}
    silent = {s.host.name: s.error or "no answer yet" for s in states if not s.reachable}

    def read(name: str) -> FleetRow:
        if name in silent:
            return fleet_row(name, counts[name], None, f"unreachable: {silent[name]}")
        try:
            snapshot, _source = read_host_gpus(backends, name, deployments)
        except BackendUnavailable as exc:
            return fleet_row(name, counts[name], None, exc.reason)
        except Exception as exc:  # one host's failure is that host's row
            return fleet_row(name, counts[name], None, f"reading failed: {type(exc).__name__}")
        return fleet_row(name, counts[name], snapshot, None)

    pool = ThreadPoolExecutor(max_workers=max(1, min(16, len(names))))
    futures = {name: pool.submit(read, name) for name in names}
    wait_for(futures.values(), timeout=FLEET_WAIT_S)
    pool.shutdown(wait=False, cancel_futures=True)
    return [
        f.result() if f.done() else fleet_row(n, counts[n], None, "no answer in time")
        for n, f in futures.items()
    ]
