from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterator

import pytest

from vtui.backends.engine.docker_engine import DockerEngine
from vtui.core.errors import EngineError
from vtui.core.records import Deployment, RunRequest

SIM_IMAGE = "vtui-test/vllm-sim"
pytest_plugins = ["tests.hardening_report", "tests.support.fleet"]


@pytest.fixture(autouse=True)
def own_hf_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets an empty HF home: none reads or fills the machine's real HF cache."""
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf-home")))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)


@pytest.fixture(autouse=True)
def own_demo_world(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`vtui --demo` keeps its world in $TMPDIR per seed: each test gets its own, so one
    test's demo containers never show up in another's."""
    monkeypatch.setenv("TMPDIR", str(tmp_path_factory.mktemp("tmp")))


@pytest.fixture(autouse=True)
def heap_unfrozen() -> Iterator[None]:
    """Each app freezes its startup heap (vtui.ui.app.freeze_startup_heap): one process runs
    many apps here, and a frozen heap is never collected, so give it back after each test."""
    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def docker_engine() -> DockerEngine:
    """vtui's real engine backend on this machine's dockerd, with the simulator image built.

    Without them the engine tests skip with the reason, except under CI=true, where a missing
    engine is a failure: CI must exercise the real engine, never quietly skip it.
    """
    try:
        import docker

        client = docker.from_env()
        client.ping()
        client.images.get(SIM_IMAGE)
    except Exception as exc:
        reason = (
            f"no Docker engine with the {SIM_IMAGE} image ({type(exc).__name__}: "
            f"{str(exc)[:120]}); run scripts/test-engine.sh as root"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return DockerEngine()


@pytest.fixture
def launched(docker_engine: DockerEngine) -> Iterator[Callable[[RunRequest], Deployment]]:
    """Runs requests and removes whatever they started, whatever the test did."""
    started: list[str] = []

    def launch(request: RunRequest) -> Deployment:
        deployment = docker_engine.run(request)
        started.append(deployment.container_id)
        return deployment

    yield launch
    for container_id in started:
        with contextlib.suppress(EngineError):
            docker_engine.stop(container_id, timeout=2)
        with contextlib.suppress(EngineError):
            docker_engine.remove(container_id)
