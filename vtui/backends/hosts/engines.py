"""Several Docker hosts as one engine: this machine's (with its processes and attached
endpoints) and each remote host's, side by side.

A remote deployment's id is "HOST/ID" (Docker's ids and names never hold a '/'), so every
call finds its host by the id alone and the services and screens work unchanged. Remote
hosts are asked concurrently, each in its own thread with its own deadline: a slow host
delays no other, and a listing waits for a host at most `wait_s` before it shows that
host's last answer, marked as waiting.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, replace

from vtui.backends.engine import ContainerEngine, LogFollow, PullListener
from vtui.backends.gpu import GpuMonitor
from vtui.backends.hub import Downloads
from vtui.core.errors import BackendUnavailable, EngineUnavailable, NoSuchContainer
from vtui.core.hosts import LOCAL, Host, remote_id, split_id
from vtui.core.records import Deployment, LogLine, RunRequest


@dataclass(frozen=True)
class Connection:
    """A remote host's engine, what closes it, and (over ssh) a tunnel maker: the local
    port that reaches a port of the far side."""

    engine: ContainerEngine
    close: Callable[[], None]
    tunnel: Callable[[str, int], int] | None = None
    # The host's GPUs as vtui reads them from afar (nvidia-smi in a helper container).
    gpus: Callable[[], GpuMonitor] | None = None
    # Downloads into the host's own HF cache (vtui's downloader in a helper there).
    downloads: Callable[[], Downloads] | None = None


EngineMaker = Callable[[Host], Connection]
REMOTE_TIMEOUT_S = 8.0  # one API call to a remote engine
# How long a listing waits for a slow host before showing its last answer: short, since
# the TUI lists every second and this machine's own changes must not wait for a far host.
LIST_WAIT_S = 0.25


def _theirs(host: str, deployment: Deployment) -> Deployment:
    return replace(
        deployment, container_id=remote_id(host, deployment.container_id), engine_host=host
    )


@dataclass(frozen=True)
class HostState:
    """One host as the last listing found it."""

    host: Host
    engine: str | None = None  # the engine's label (with its version), once it answered
    error: str | None = None  # why it did not, in words
    deployments: int = 0

    @property
    def reachable(self) -> bool:
        return self.engine is not None and self.error is None


class RemoteHost:
    """A remote engine made on first use (an ssh relay for ssh://), closed at exit."""

    def __init__(self, host: Host, make: EngineMaker) -> None:
        self.host = host
        self._make = make
        self._connection: Connection | None = None
        self._gpus: GpuMonitor | None = None
        self._lock = threading.Lock()

    def _connected(self) -> Connection:
        with self._lock:
            if self._connection is None:
                self._connection = self._make(self.host)
            return self._connection

    @property
    def engine(self) -> ContainerEngine:
        return self._connected().engine

    def base_url(self, deployment: Deployment) -> str | None:
        """Where vtui reaches the deployment's server from here: through an ssh tunnel to
        the port it publishes on the far side (a 127.0.0.1 port stays bound there), or
        directly at the host's name when it publishes on an address opened on purpose."""
        if deployment.port is None or deployment.runtime == "endpoint":
            return deployment.base_url
        tunnel = self._connected().tunnel
        bound = deployment.host
        far_side = "127.0.0.1" if bound in ("0.0.0.0", "::", "") else bound
        if tunnel is not None:
            try:
                return f"http://127.0.0.1:{tunnel(far_side, deployment.port)}"
            except OSError as exc:
                raise EngineUnavailable(f"host {self.host.name}: {exc}") from exc
        if bound in ("0.0.0.0", "::"):
            return f"http://{self.host.hostname}:{deployment.port}"
        raise EngineUnavailable(
            f"{deployment.name} listens on {bound}:{deployment.port} of host {self.host.name}, "
            f"which only that host reaches: reach {self.host.name} by ssh:// (vtui opens a "
            "tunnel), or publish the port on an address you opened (--host 0.0.0.0)"
        )

    def gpus(self) -> GpuMonitor:
        """The host's GPU monitor, made once. Raises BackendUnavailable when this host's
        GPUs cannot be read from here."""
        make = self._connected().gpus
        if make is None:
            raise BackendUnavailable(f"vtui cannot read the GPUs of host {self.host.name}")
        with self._lock:
            if self._gpus is None:
                self._gpus = make()
            return self._gpus

    def downloads(self) -> Downloads:
        """Raises BackendUnavailable when vtui cannot download on this host."""
        make = self._connected().downloads
        if make is None:
            raise BackendUnavailable(f"vtui cannot download on host {self.host.name}")
        return make()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            self._gpus = None


class HostEngines:
    def __init__(
        self,
        local: ContainerEngine,
        local_host: Host,
        remotes: Iterable[RemoteHost],
        wait_s: float = LIST_WAIT_S,
        problems: Iterable[str] = (),
    ) -> None:
        self.local = local
        self.problems = list(problems)  # host entries that could not be used, and why
        self.remotes = {r.host.name: r for r in remotes}
        self.wait_s = wait_s
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, min(32, len(self.remotes))), thread_name_prefix="vtui-host"
        )
        self._asked: dict[str, tuple[float, Future[list[Deployment]]]] = {}
        self._last: dict[str, list[Deployment]] = {}
        self._states: dict[str, HostState] = {LOCAL: HostState(local_host)}
        self._lock = threading.Lock()
        atexit.register(self.close)

    @property
    def label(self) -> str:
        extra = f" + {len(self.remotes)} remote" if self.remotes else ""
        return self.local.label + extra

    def now(self) -> float:
        return self.local.now()

    # -- listing ------------------------------------------------------------------------------

    def host_states(self) -> list[HostState]:
        """Every host as the last listing found it, local first."""
        with self._lock:
            return list(self._states.values())

    def _ask(self, name: str) -> Future[list[Deployment]]:
        with self._lock:
            asked = self._asked.get(name)
            if asked is None or asked[1].done():
                future = self._pool.submit(self._list_remote, name)
                self._asked[name] = asked = (time.monotonic(), future)
            return asked[1]

    def _list_remote(self, name: str) -> list[Deployment]:
        remote = self.remotes[name]
        return [_theirs(name, d) for d in remote.engine.list_deployments()]

    def list_deployments(self) -> list[Deployment]:
        futures = {name: self._ask(name) for name in self.remotes}
        local_error: BackendUnavailable | None = None
        try:
            local = self.local.list_deployments()
            self._set(LOCAL, engine=self.local.label, deployments=len(local))
        except BackendUnavailable as exc:
            local, local_error = [], exc
            self._set(LOCAL, error=str(exc))
        if futures:
            wait_for(futures.values(), timeout=self.wait_s)
        listed = list(local)
        for name, future in futures.items():
            listed += self._collect(name, future)
        if local_error is not None and not self.remotes:
            raise local_error
        return listed

    def _collect(self, name: str, future: Future[list[Deployment]]) -> list[Deployment]:
        if not future.done():
            with self._lock:
                since = self._asked[name][0]
            waited = time.monotonic() - since
            error = f"no answer within {waited:.0f} s" if waited > REMOTE_TIMEOUT_S else None
            self._set(name, error=error, keep=True)
            return self._last.get(name, []) if error is None else []
        try:
            found = future.result()
        except BackendUnavailable as exc:
            self._last[name] = []
            self._set(name, error=str(exc))
            return []
        except Exception as exc:  # a host's failure stays that host's
            self._last[name] = []
            self._set(name, error=f"{type(exc).__name__}: {exc}"[:300])
            return []
        self._last[name] = found
        self._set(name, engine=self.remotes[name].engine.label, deployments=len(found))
        return found

    def _set(self, name: str, keep: bool = False, **fields: object) -> None:
        """A host's new state; `keep`: over its last answer (still waiting for the next)."""
        with self._lock:
            old = self._states.get(name) or HostState(self.remotes[name].host)
            base = old if keep else HostState(old.host)
            self._states[name] = replace(base, **fields)  # type: ignore[arg-type]

    # -- one deployment -----------------------------------------------------------------------

    def _route(self, container_id: str) -> tuple[ContainerEngine, str]:
        host, inner = split_id(container_id)
        if host is None:
            return self.local, inner
        remote = self.remotes.get(host)
        if remote is None:
            raise NoSuchContainer(f"{container_id}: no host called {host!r} here")
        return remote.engine, inner

    def inspect(self, container_id: str) -> Deployment:
        engine, inner = self._route(container_id)
        found = engine.inspect(inner)
        host = split_id(container_id)[0]
        return found if host is None else _theirs(host, found)

    def log_lines(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> list[LogLine]:
        engine, inner = self._route(container_id)
        return engine.log_lines(inner, since_ns, tail)

    def logs(self, container_id: str, tail: int = 1000) -> list[str]:
        engine, inner = self._route(container_id)
        return engine.logs(inner, tail)

    def follow_logs(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> LogFollow:
        engine, inner = self._route(container_id)
        return engine.follow_logs(inner, since_ns, tail)

    def run(self, request: RunRequest, on_pull: PullListener | None = None) -> Deployment:
        """On this machine; `run_on` starts one on a named host."""
        return self.local.run(request, on_pull)

    def run_on(
        self, host: str, request: RunRequest, on_pull: PullListener | None = None
    ) -> Deployment:
        if host == LOCAL:
            return self.local.run(request, on_pull)
        remote = self.remotes.get(host)
        if remote is None:
            raise EngineUnavailable(f"no host called {host!r} (see `vtui hosts`)")
        return _theirs(host, remote.engine.run(request, on_pull))

    def downloads_on(self, host: str) -> Downloads:
        """Downloads into that host's HF cache. Raises BackendUnavailable."""
        remote = self.remotes.get(host)
        if remote is None:
            raise EngineUnavailable(f"no host called {host!r} (see `vtui hosts`)")
        return remote.downloads()

    def base_url(self, deployment: Deployment) -> str | None:
        """Where vtui reaches the deployment's server from this machine. Raises
        EngineUnavailable when it cannot be reached from here, saying why."""
        remote = self.remotes.get(deployment.engine_host)
        return deployment.base_url if remote is None else remote.base_url(deployment)

    def containers_of(self, pids: Collection[int]) -> dict[int, str]:
        # Host PIDs are this machine's: only its own engine can own them.
        return self.local.containers_of(pids)

    def api_key(self, container_id: str) -> str | None:
        engine, inner = self._route(container_id)
        return engine.api_key(inner)

    def stop(self, container_id: str, timeout: int = 10) -> None:
        engine, inner = self._route(container_id)
        engine.stop(inner, timeout)

    def restart(self, container_id: str, timeout: int = 10) -> None:
        engine, inner = self._route(container_id)
        engine.restart(inner, timeout)

    def remove(self, container_id: str) -> None:
        engine, inner = self._route(container_id)
        engine.remove(inner)

    def close(self) -> None:
        for remote in self.remotes.values():
            with contextlib.suppress(Exception):
                remote.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
