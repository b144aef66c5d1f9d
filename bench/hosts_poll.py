"""How long one listing of every host takes with 1, 4 and 16 remote hosts, against one
listing of this machine's engine alone, measured in the same run.

The hosts are several names for the second engine of scripts/test-remote.sh over its sshd
(each name its own ssh master, as separate boxes would be): real ssh, real engines. Cold is
the first listing (ssh handshakes), warm the median of the next ones.

    python bench/hosts_poll.py [--rounds N]      (as root, after scripts/test-remote.sh)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

SSH_DIR = Path("/run/vtui-ssh")
SSH_PORT = int(os.environ.get("VTUI_SSH_PORT", "2222"))


def _ssh_wrapper() -> None:
    """`ssh` with the test host's config first on PATH, as a user's ~/.ssh/config would be."""
    folder = Path(tempfile.mkdtemp(prefix="vtui-bench-ssh-"))
    wrapper = folder / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {SSH_DIR}/ssh_config "$@"\n')
    wrapper.chmod(0o755)
    os.environ["PATH"] = f"{folder}:{os.environ['PATH']}"


def timed(count: int, rounds: int) -> tuple[float, float]:
    from vtui.backends.engine.docker_engine import DockerEngine
    from vtui.backends.hosts.connect import remote_engine
    from vtui.backends.hosts.engines import HostEngines, RemoteHost
    from vtui.core.hosts import LOCAL, Host

    remotes = [
        RemoteHost(Host(f"gpu-{i}", f"ssh://root@127.0.0.1:{SSH_PORT}", "config"), remote_engine)
        for i in range(count)
    ]
    hosts = HostEngines(
        DockerEngine(), Host(LOCAL, "unix:///var/run/docker.sock", "local"), remotes, wait_s=60
    )
    try:
        began = time.perf_counter()
        hosts.list_deployments()
        cold = time.perf_counter() - began
        warm = []
        for _ in range(rounds):
            began = time.perf_counter()
            hosts.list_deployments()
            warm.append(time.perf_counter() - began)
        silent = [s.host.name for s in hosts.host_states() if not s.reachable]
        if silent:
            raise SystemExit(f"hosts did not answer: {silent}")
        return cold, statistics.median(warm)
    finally:
        hosts.close()


def baseline(rounds: int) -> float:
    from vtui.backends.engine.docker_engine import DockerEngine

    engine = DockerEngine()
    engine.list_deployments()
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        engine.list_deployments()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    if not (SSH_DIR / "ssh_config").exists():
        raise SystemExit("no second host: run scripts/test-remote.sh as root first")
    _ssh_wrapper()
    local = baseline(args.rounds)
    print(f"this machine's engine alone: median {local * 1000:.0f} ms per listing")
    print(f"{'remote hosts':>12}  {'cold':>8}  {'warm':>8}  warm / local alone")
    for count in (1, 4, 16):
        cold, warm = timed(count, args.rounds)
        print(f"{count:>12}  {cold * 1000:>6.0f}ms  {warm * 1000:>6.0f}ms  {warm / local:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
