"""Running the vLLM simulator image as vtui runs vLLM, and following it as the UI does."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator

from tests.conftest import SIM_IMAGE
from vtui.backends.endpoint.http import HttpEndpoint
from vtui.backends.engine.docker_engine import DockerEngine
from vtui.core.launch_spec import LaunchSpec, run_request
from vtui.core.records import Deployment, RunRequest
from vtui.services.following import DeploymentWatch, WatchUpdate

QWEN = "Qwen/Qwen2.5-7B-Instruct"


def sim_spec(port: int, model: str = QWEN, *args: str, gpus: str = "none") -> LaunchSpec:
    return LaunchSpec(
        name=f"t{secrets.token_hex(3)}",
        model=model,
        image=SIM_IMAGE,
        gpus=gpus,
        port=port,
        extra_args=("--sim-startup-seconds", "1.5", *args),
    )


def sim_request(port: int, model: str = QWEN, *args: str, gpus: str = "none") -> RunRequest:
    return run_request(sim_spec(port, model, *args, gpus=gpus), secrets.token_urlsafe(16), {})


def watch_of(engine: DockerEngine, deployment: Deployment) -> DeploymentWatch:
    return DeploymentWatch(
        engine,
        lambda d: HttpEndpoint(d.base_url or "", engine.api_key(d.container_id)),
        deployment.container_id,
    )


class Follower:
    """DeploymentWatch.run in a thread, every update kept for the test to read."""

    def __init__(self, watch: DeploymentWatch) -> None:
        self.watch = watch
        self.updates: list[WatchUpdate] = []
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=watch.run, args=(self._emit, self._stop))
        self._thread.start()

    def _emit(self, update: WatchUpdate) -> None:
        with self._lock:
            self.updates.append(update)
            self.lines.extend(update.lines)

    def wait_for(self, what: str, test: Callable[[WatchUpdate], bool], limit: float) -> WatchUpdate:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with self._lock:
                for update in self.updates:
                    if test(update):
                        return update
            time.sleep(0.05)
        last = self.updates[-1] if self.updates else None
        raise AssertionError(f"never saw {what}; last update: {last}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


@contextlib.contextmanager
def following(engine: DockerEngine, deployment: Deployment) -> Iterator[Follower]:
    follower = Follower(watch_of(engine, deployment))
    try:
        yield follower
    finally:
        follower.close()
