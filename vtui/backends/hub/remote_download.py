"""Downloads into another host's HF cache: vtui's own downloader (remote_worker.py) runs
there in a labelled helper container, with that host's cache mounted and that host's own
network, and its lines come back through the engine's log stream.

So the bytes go from the Hub straight to the host that serves, never through this
machine, and the resume, size and checksum rules are the local ones: the same code runs.
The helper has a fixed name per repo and place, so a vtui that lost the host mid-download
(the ssh link dropped) finds the download still going there and follows it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

from vtui.backends.engine.docker_engine import DockerEngine
from vtui.backends.engine.helper_jobs import HelperJob
from vtui.core import download_wire as wire
from vtui.core.downloads import HUB_CACHE, Destination, DownloadPlan, Progress
from vtui.core.errors import (
    BackendUnavailable,
    Cancelled,
    DownloadError,
    EngineError,
    EngineUnavailable,
)
from vtui.core.hosts import far_path_problem

WORKER_DIR = "/opt/vtui-worker"
TOKEN_FILE = ".hf-token"
# The far side prints a line at least every 5 s; this long without one, it is stuck.
SILENCE_S = 60.0
PLAN_WAIT_S = 150.0  # the worker's Hub deadline (120 s) and a container's start
JOB = "download"
# What the worker imports: vtui's core and backends. The screens and commands stay here.
SHIPPED = ("__init__.py", "locations.py", "core", "backends")


@cache
def _worker_files() -> dict[str, bytes]:
    """vtui's own code as the worker needs it, by path under WORKER_DIR."""
    package = Path(__file__).resolve().parents[2]
    files: dict[str, bytes] = {}
    for part in SHIPPED:
        start = package / part
        for path in [start] if start.is_file() else sorted(start.rglob("*.py")):
            files["vtui/" + path.relative_to(package).as_posix()] = path.read_bytes()
    return files


def _token() -> str | None:
    from huggingface_hub import get_token

    return get_token()


class _Place:
    """Where on the host the files go, where the helper sees them, and back again."""

    def __init__(self, where: Destination, hf_home: str, host: str) -> None:
        if where.local_dir:
            self.host_path, self.inside, option = where.local_dir, "/vtui-dest", "--local-dir"
            self.args: tuple[str, ...] = (option, self.inside)
        elif where.cache_dir:
            self.host_path, self.inside = where.cache_dir, "/vtui-cache"
            self.args = ("--cache-dir", self.inside)
        else:
            self.host_path, self.inside = hf_home, "/vtui-hf"
            self.args = ("--cache-dir", self.inside + "/hub")
        problem = far_path_problem(self.host_path)
        if problem:
            raise DownloadError(f"host {host}: {self.host_path[:200]!r} {problem}")
        self.host_path = self.host_path.rstrip("/") or "/"

    def on_host(self, inside_path: str) -> str | None:
        """The host's path for a path the helper printed; None if it is not under the mount."""
        if inside_path != self.inside and not inside_path.startswith(self.inside + "/"):
            return None
        rest = inside_path[len(self.inside) :]
        if far_path_problem(self.inside + rest):
            return None
        return self.host_path + rest


class RemoteDownloads:
    """One host's downloads, through its engine."""

    def __init__(self, engine: DockerEngine, host: str, hf_home: str) -> None:
        self.engine, self.host, self.hf_home = engine, host, hf_home
        self.label = f"downloads on {host}"

    def _place(self, where: Destination) -> _Place:
        return _Place(where, self.hf_home, self.host)

    def _job(
        self, mode: str, repo_id: str, where: Destination, place: _Place, name: str | None
    ) -> HelperJob:
        import os

        environment = {"PYTHONPATH": WORKER_DIR, "PYTHONUNBUFFERED": "1", "HF_HOME": "/vtui-hf"}
        if os.environ.get("HF_ENDPOINT"):
            environment["HF_ENDPOINT"] = os.environ["HF_ENDPOINT"]
        files = dict(_worker_files())
        token = _token()
        if token:
            # A file, not an environment variable: `docker inspect` shows the environment.
            files[TOKEN_FILE] = token.encode()
            environment["HF_TOKEN_PATH"] = f"{WORKER_DIR}/{TOKEN_FILE}"
        argv = ("python3", "-m", "vtui.backends.hub.remote_worker", mode, repo_id)
        return HelperJob(
            JOB,
            (*argv, "--revision", where.revision, *place.args),
            name=name,
            host_network=True,
            environment=environment,
            binds={place.host_path: place.inside},
            files={WORKER_DIR: files},
            private_files=frozenset({TOKEN_FILE}),
        )

    @staticmethod
    def _helper_name(repo_id: str, where: Destination, place: _Place) -> str:
        key = f"{place.host_path}\0{repo_id}\0{where.revision}".encode()
        return "vtui-download-" + hashlib.sha256(key).hexdigest()[:16]

    def _failed(self, exc: EngineError | BackendUnavailable) -> DownloadError:
        return DownloadError(f"cannot download on host {self.host}: {exc}")

    # -- planning -------------------------------------------------------------------------

    def plan_download(self, repo_id: str, where: Destination = HUB_CACHE) -> DownloadPlan:
        """The files, their sizes and what the host already has. Raises DownloadError."""
        try:
            job = self._job("plan", repo_id, where, self._place(where), None)
            container_id = self.engine.start_helper(job)
        except (EngineError, BackendUnavailable) as exc:
            raise self._failed(exc) from None
        reader = wire.PlanReader(repo_id)
        try:
            deadline = time.monotonic() + PLAN_WAIT_S
            while self.engine.helper_exit(container_id) is None:
                if time.monotonic() > deadline:
                    raise DownloadError(
                        f"host {self.host}: the plan for {repo_id} took over {PLAN_WAIT_S:.0f} s"
                    )
                time.sleep(0.2)
            for line in self.engine.log_lines(container_id):
                reader.feed(line.text)
        except wire.WireProblem as exc:
            raise DownloadError(
                f"host {self.host}: refused its plan for {repo_id}, nothing was written: {exc}"
            ) from None
        except (EngineError, BackendUnavailable) as exc:
            raise self._failed(exc) from None
        finally:
            self.engine.remove_helper(container_id)
        if reader.done is not None:
            return reader.done
        raise DownloadError(f"host {self.host}: {reader.error or 'its downloader printed no plan'}")

    # -- downloading ----------------------------------------------------------------------

    def download(
        self,
        plan: DownloadPlan,
        on_progress: Callable[[Progress], None],
        cancel: threading.Event,
        where: Destination = HUB_CACHE,
    ) -> str:
        """The model's path on the host. Raises DownloadError, or Cancelled when `cancel`
        is set or Ctrl-C comes (the helper is stopped; what came stays there)."""
        place = self._place(where)
        try:
            container_id = self._start_or_join(plan.repo_id, where, place)
        except (EngineError, BackendUnavailable) as exc:
            raise self._failed(exc) from None
        try:
            inside = self._follow(container_id, plan, on_progress, cancel)
        except (Cancelled, KeyboardInterrupt):
            # The stop is asked of the far side; a host gone meanwhile stops it anyway.
            with contextlib.suppress(EngineError, BackendUnavailable):
                self.engine.stop_helper(container_id)
            self.engine.remove_helper(container_id)
            raise
        except EngineUnavailable as exc:
            raise DownloadError(
                f"lost host {self.host} mid-download ({exc}). The download goes on there; "
                "run the same command again to follow it"
            ) from None
        path = place.on_host(inside)
        if path is None:
            raise DownloadError(f"host {self.host}: its downloader named a path outside the cache")
        return path

    def _start_or_join(self, repo_id: str, where: Destination, place: _Place) -> str:
        name = self._helper_name(repo_id, where, place)
        found = self.engine.helper_named(name)
        if found is not None:
            found_id, running = found
            if running:
                return found_id  # an earlier vtui's download, still going: follow it
            self.engine.remove_helper(found_id)
        return self.engine.start_helper(self._job("download", repo_id, where, place, name))

    def _follow(
        self,
        container_id: str,
        plan: DownloadPlan,
        on_progress: Callable[[Progress], None],
        cancel: threading.Event,
    ) -> str:
        """The helper's lines until it ends: the path it printed. Raises DownloadError with
        its reason, Cancelled, or EngineUnavailable when the host went away."""
        lines: queue.Queue[str | None] = queue.Queue(maxsize=256)
        follow = self.engine.follow_logs(container_id, tail=20)

        def read() -> None:
            try:
                for line in follow:
                    lines.put(line.text)
            finally:
                lines.put(None)

        threading.Thread(target=read, daemon=True, name="vtui-remote-download").start()
        finished: str | None = None
        failed: str | None = None
        heard = time.monotonic()
        try:
            while True:
                if cancel.is_set():
                    raise Cancelled()
                try:
                    text = lines.get(timeout=0.25)
                except queue.Empty:
                    if time.monotonic() - heard > SILENCE_S:
                        self.engine.stop_helper(container_id)
                        raise DownloadError(
                            f"host {self.host}: its downloader said nothing for "
                            f"{SILENCE_S:.0f} s and was stopped; what came is kept: rerun "
                            "to resume"
                        ) from None
                    continue
                if text is None:
                    break
                heard = time.monotonic()
                event = wire.read_event(text, plan)
                if isinstance(event, Progress):
                    on_progress(event)
                elif isinstance(event, wire.Finished):
                    finished = event.path
                elif isinstance(event, wire.Failed):
                    failed = event.reason
                elif isinstance(event, wire.Stopped):
                    raise Cancelled()
        finally:
            follow.close()
        code = self.engine.helper_exit(container_id)  # raises EngineUnavailable if gone
        if code is None:  # the stream ended, the helper did not: the link dropped
            raise EngineUnavailable("its log stream ended while the helper runs")
        with contextlib.suppress(EngineError):
            self.engine.remove_helper(container_id)
        if finished is not None and code == 0:
            on_progress(Progress(plan.repo_id, plan.total_bytes, plan.total_bytes, finished=True))
            return finished
        raise DownloadError(
            f"host {self.host}: "
            + (failed or f"its downloader stopped (exit status {code}) without saying why")
        )
