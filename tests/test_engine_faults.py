"""The Docker engine goes away: vtui says why in words, keeps going, and re-attaches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.engine_helpers import following, sim_request
from tests.support.helpers import REPO, free_port
from vtui.backends.engine.docker_engine import DockerEngine
from vtui.core.errors import BackendUnavailable
from vtui.core.records import ContainerState, Deployment, RunRequest
from vtui.core.startup import Phase

pytestmark = pytest.mark.engine
DOCKERD_LOG = Path("/var/log/vtui-dockerd.log")
AS_NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


@pytest.mark.fault("docker-down")
def test_no_daemon_at_the_socket_is_said_in_words() -> None:
    engine = DockerEngine(base_url="unix:///tmp/vtui-no-such-docker.sock")
    with pytest.raises(BackendUnavailable) as failure:
        engine.list_deployments()
    assert "no socket there. Is Docker Engine installed and dockerd running?" in str(failure.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
@pytest.mark.fault("docker-socket-denied")
def test_a_socket_this_user_may_not_open_says_how_to_get_in(docker_engine: DockerEngine) -> None:
    # `vtui ps` as nobody, against the root-owned socket: the message, not a traceback.
    done = subprocess.run(
        [*AS_NOBODY, sys.executable, "-m", "vtui", "ps"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": "/tmp"},
    )
    assert done.returncode == 1
    assert "permission denied on the socket" in done.stderr
    assert "usermod -aG docker" in done.stderr
    assert "Traceback" not in done.stderr


def _dockerd_pid() -> int | None:
    """The first engine's dockerd: the one started without a --host of its own (the second
    engine of the remote-host tests runs beside it with its own socket)."""
    found = subprocess.run(["pgrep", "-a", "-x", "dockerd"], capture_output=True, text=True)
    pids = [line.split()[0] for line in found.stdout.splitlines() if "--host" not in line]
    return int(pids[0]) if pids else None


def _wait(what: str, test: Callable[[], bool], limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if test():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {limit:.0f}s for {what}")


def _engine_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="restarting dockerd needs root")
@pytest.mark.fault("docker-restarted")
def test_the_daemon_restarted_mid_follow_is_survived(
    docker_engine: DockerEngine, launched: Callable[[RunRequest], Deployment]
) -> None:
    if Path("/run/systemd/system").exists():
        pytest.skip("dockerd is systemd's here; this test restarts one it started itself")
    deployment = launched(sim_request(free_port()))
    with following(docker_engine, deployment) as follower:
        follower.wait_for("ready", lambda u: u.models is not None, 30)

        pid = _dockerd_pid()
        assert pid is not None
        os.kill(pid, signal.SIGTERM)
        _wait("dockerd to exit", lambda: _dockerd_pid() is None, 30)
        lost = follower.wait_for("the engine lost", lambda u: u.engine_error is not None, 10)
        assert "Docker engine" in (lost.engine_error or "")
        with pytest.raises(BackendUnavailable):
            docker_engine.list_deployments()

        with DOCKERD_LOG.open("ab") as log:
            subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)
        _wait("dockerd to answer", _engine_answers, 60)
        # dockerd stops its containers when it stops: the watch sees that once it is back.
        back = follower.wait_for(
            "the engine back",
            lambda u: (
                u.engine_error is None
                and u.deployment is not None
                and u.deployment.state == ContainerState.EXITED
                and u is follower.updates[-1]
            ),
            15,
        )
        assert back.phase in (Phase.STOPPED, Phase.CRASHED)
        assert deployment.container_id in {d.container_id for d in docker_engine.list_deployments()}

        # Started again, the same watch re-attaches to the new run's log.
        docker_engine.restart(deployment.container_id, timeout=5)
        follower.wait_for("a new run", lambda u: u.restarted, 15)
        follower.wait_for(
            "ready again", lambda u: u.models is not None and u is follower.updates[-1], 30
        )
