"""GPU processes to containers on the real Docker engine: by cgroup, and by `docker top`
where /proc cannot tell (vtui itself in a container, say)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tests.support.engine_helpers import sim_request
from tests.support.helpers import free_port
from vtui.backends.engine.docker_engine import DockerEngine
from vtui.backends.engine.process_owners import ProcessOwners, container_by_cgroup
from vtui.core.records import Deployment, RunRequest


def host_pid(engine: DockerEngine, container_id: str) -> int:
    pid: int = engine._docker().api.inspect_container(container_id)["State"]["Pid"]
    return pid


def test_a_containers_process_is_found_by_its_cgroup(
    docker_engine: DockerEngine, launched: Callable[[RunRequest], Deployment]
) -> None:
    deployment = launched(sim_request(free_port()))
    pid = host_pid(docker_engine, deployment.container_id)
    assert container_by_cgroup(pid) == deployment.container_id
    assert docker_engine.containers_of({pid, os.getpid()}) == {pid: deployment.container_id}


def test_without_proc_the_engines_process_list_answers(
    docker_engine: DockerEngine, launched: Callable[[RunRequest], Deployment], tmp_path: Path
) -> None:
    deployment = launched(sim_request(free_port()))
    pid = host_pid(docker_engine, deployment.container_id)
    asked: list[str] = []

    def pids_of(container_id: str) -> list[int]:
        asked.append(container_id)
        return docker_engine._host_pids(container_id)

    # An empty /proc, as in another PID namespace: every PID goes to `docker top`.
    owners = ProcessOwners(docker_engine._running_vllm, pids_of, proc=tmp_path)
    assert owners.owners({pid, 999_999}) == {pid: deployment.container_id}
    assert owners.owners({pid}) == {pid: deployment.container_id}
    assert asked.count(deployment.container_id) == 1  # kept, not asked each second
