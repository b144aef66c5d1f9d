"""The remote-host test rig: a second dockerd behind an sshd on 127.0.0.1 (scripts/
test-remote.sh), a user's config folder with [hosts] tables, `ssh` as the user would run
it, and spare sshds a test may stop. Registered in tests/conftest.py, so its fixtures
serve every remote-host test file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import SIM_IMAGE
from tests.support.helpers import free_port, run_vtui
from vtui.backends.files.profile_store import ProfileStore
from vtui.core.launch_spec import LaunchSpec

SSH_DIR = Path("/run/vtui-ssh")
SSH_PORT = int(os.environ.get("VTUI_SSH_PORT", "2222"))
SECOND_SOCKET = "/run/vtui-engine2/docker.sock"
# The second engine on tcp:// with --tlsverify, and its throwaway CA and certificates.
TLS_DIR = Path("/run/vtui-engine2/tls")
TLS_PORT = int(os.environ.get("VTUI_TLS_PORT", "2376"))


@pytest.fixture(scope="module")
def second_host() -> Path:
    if not (SSH_DIR / "ssh_config").exists():
        reason = "no second host here: run scripts/test-remote.sh as root"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return SSH_DIR


class Fleet:
    """A user's machine: vtui's config folder with [hosts] tables, and `ssh` as the user's
    would run (here: with the test's own ssh config and key, through a wrapper on PATH)."""

    def __init__(self, root: Path, identity: Path) -> None:
        self.root = root
        self.config = root / "config"
        (self.config / "vtui").mkdir(parents=True)
        self.bin = root / "bin"
        self.bin.mkdir()
        self.known_hosts = root / "known_hosts"
        self.known_hosts.write_text((SSH_DIR / "known_hosts").read_text())
        self.use_key(identity)
        self.hosts: dict[str, dict[str, str]] = {}
        self.extra_env: dict[str, str] = {}

    def use_key(self, identity: Path) -> None:
        ssh_config = self.root / "ssh_config"
        ssh_config.write_text(
            f"Host 127.0.0.1\n    User root\n    IdentityFile {identity}\n"
            f"    IdentitiesOnly yes\n    UserKnownHostsFile {self.known_hosts}\n"
            "    StrictHostKeyChecking yes\n"
        )
        wrapper = self.bin / "ssh"
        wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {ssh_config} "$@"\n')
        wrapper.chmod(0o755)

    def add(self, name: str, docker: str, **settings: str) -> None:
        self.hosts[name] = {"docker": docker, **settings}
        tables = "".join(
            f"[hosts.{n}]\n" + "".join(f'{k} = "{v}"\n' for k, v in table.items()) + "\n"
            for n, table in self.hosts.items()
        )
        (self.config / "vtui" / "config.toml").write_text(tables)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "XDG_CONFIG_HOME": str(self.config),
            "XDG_STATE_HOME": str(self.root / "state"),
            "HF_HOME": str(self.root / "hf"),
            "DOCKER_CONFIG": str(self.root / "docker"),
            **self.extra_env,
        }

    def vtui(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        return run_vtui(*args, timeout=timeout, env=self.env())

    def hosts_json(self) -> dict[str, dict[str, object]]:
        done = self.vtui("hosts", "--json")
        assert done.returncode == 0, done.stderr
        return {row["name"]: row for row in json.loads(done.stdout)["hosts"]}


@pytest.fixture
def fleet(tmp_path: Path, second_host: Path) -> Iterator[Fleet]:
    fleet = Fleet(tmp_path, second_host / "client_key")
    fleet.add("gpu-2", f"ssh://root@127.0.0.1:{SSH_PORT}")
    yield fleet
    # What a test left on the second engine goes.
    env = {**os.environ, "DOCKER_HOST": f"unix://{SECOND_SOCKET}"}
    for name in ProfileStore(fleet.config / "vtui").names():
        subprocess.run(["docker", "rm", "-f", f"vtui-{name}"], env=env, capture_output=True)


def make_profile(fleet: Fleet, name: str, host: str = "127.0.0.1") -> str:
    ProfileStore(fleet.config / "vtui").create(
        LaunchSpec(
            name=name,
            model="Qwen/Qwen2.5-7B-Instruct",
            image=SIM_IMAGE,
            gpus="none",
            port=free_port(),
            host=host,
        )
    )
    return name


class SpareSshd:
    """A throwaway sshd for one test, on its own port: it can be stopped mid-test, or point
    its sessions at an engine that is not there, without touching the shared one."""

    def __init__(self, fleet: Fleet, docker_host: str) -> None:
        self.port = free_port()
        root = fleet.root / f"sshd-{self.port}"
        root.mkdir()
        config = root / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {SSH_DIR}/host_key\n"
            f"PidFile {root}/sshd.pid\nAuthorizedKeysFile {SSH_DIR}/authorized_keys\n"
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUsePAM no\n"
            f"StrictModes no\nSetEnv DOCKER_HOST={docker_host}\n"
        )
        key = (SSH_DIR / "host_key.pub").read_text().strip()
        with fleet.known_hosts.open("a") as handle:
            handle.write(f"[127.0.0.1]:{self.port} {key}\n")
        self.proc = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise AssertionError("the spare sshd did not listen")

    def cut(self) -> None:
        """The link drops: the sessions open now end too, as when the box goes away."""
        subprocess.run(["pkill", "-KILL", "-P", str(self.proc.pid)], check=False)
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def spare_sshd(fleet: Fleet) -> Iterator[Callable[[str], SpareSshd]]:
    made: list[SpareSshd] = []

    def make(docker_host: str = f"unix://{SECOND_SOCKET}") -> SpareSshd:
        made.append(SpareSshd(fleet, docker_host))
        return made[-1]

    yield make
    for sshd in made:
        sshd.stop()
