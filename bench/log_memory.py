"""Memory while following a container with a long history: peak RSS of `vtui logs -f --tail 2`
and of the TUI's Server screen following it, against `docker logs -f --tail 2` (the
baseline, measured in the same run).

    python -m bench.log_memory [--lines N] [--width W]

Needs the Docker engine and the vtui-test/vllm-sim image (scripts/test-engine.sh). A
container writes N lines of W characters (default 3,000,000 x 160, about 500 MB of log),
then a line a second. Each follower runs until it has drawn or printed the newest line,
plus a few seconds; its peak RSS is VmHWM from /proc. Targets: the TUI at most 300 MB,
`vtui logs -f --tail 2` at most 100 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pty
import secrets
import select
import subprocess
import sys
import time
from typing import Any

from vtui.core import labels

IMAGE = "vtui-test/vllm-sim"


def script(lines: int, width: int) -> str:
    return (
        "import sys, time\n"
        f"row = 'INFO ' + 'x' * {width - 16}\n"
        f"for i in range({lines}):\n"
        "    sys.stdout.write(f'{i:010d} {row}\\n')\n"
        "sys.stdout.write('history done\\n'); sys.stdout.flush()\n"
        "i = 0\n"
        "while True:\n"
        "    print(f'live {i}', flush=True); i += 1; time.sleep(1)\n"
    )


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def follow_cli(argv: list[str], wait_s: float) -> tuple[float, bool]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    seen_live = False
    deadline = time.monotonic() + wait_s
    peak = 0.0
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready and b"live" in proc.stdout.readline():
            seen_live = True
        with contextlib.suppress(FileNotFoundError):
            peak = max(peak, peak_rss_mib(proc.pid))
    proc.kill()
    proc.wait()
    return peak, seen_live


def follow_tui(wait_s: float) -> tuple[float, bool]:
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(sys.executable, [sys.executable, "-m", "vtui"],
                   {**os.environ, "TERM": "xterm-256color"})  # fmt: skip
    screen = bytearray()
    peak = 0.0
    deadline = time.monotonic() + wait_s
    pressed = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            with contextlib.suppress(OSError):
                screen += os.read(fd, 65536)
        if not pressed and time.monotonic() > deadline - wait_s + 5:
            os.write(fd, b"3")  # the Server screen
            pressed = True
        with contextlib.suppress(FileNotFoundError):
            peak = max(peak, peak_rss_mib(pid))
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(fd)
    return peak, b"live" in screen


def main() -> None:
    import docker

    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=3_000_000)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--wait", type=float, default=25.0, help="seconds each follower runs")
    args = parser.parse_args()
    client = docker.from_env()
    name = f"vtui-bench-log-{secrets.token_hex(3)}"
    container: Any = client.containers.run(
        IMAGE, entrypoint=["python3", "-u", "-c", script(args.lines, args.width)], name=name,
        labels=labels.vtui_labels("bench/log", "bench"), detach=True,
    )  # fmt: skip
    try:
        started = time.monotonic()
        while b"history done" not in container.logs(tail=3):
            time.sleep(1)
        took = time.monotonic() - started
        log_path = client.api.inspect_container(container.id)["LogPath"]
        size = os.path.getsize(log_path) / 1e6
        print(f"container log: {args.lines:,} lines of {args.width} characters, "
              f"{size:,.0f} MB on disk (json-file), written in {took:.0f} s")  # fmt: skip
        docker_peak, docker_live = follow_cli(
            ["docker", "logs", "-f", "--tail", "2", name], args.wait
        )
        cli_peak, cli_live = follow_cli(
            [sys.executable, "-m", "vtui", "logs", "-f", "--tail", "2", name], args.wait
        )
        tui_peak, tui_live = follow_tui(args.wait + 15)
    finally:
        container.remove(force=True)
    print(f"docker logs -f --tail 2 (baseline): peak RSS {docker_peak:.0f} MiB"
          f"{'' if docker_live else ' (never saw a live line)'}")  # fmt: skip
    print(f"vtui logs -f --tail 2: peak RSS {cli_peak:.0f} MiB, ratio to docker "
          f"{cli_peak / docker_peak:.1f}; target <= 100 MiB: "
          f"{'met' if cli_peak <= 100 and cli_live else 'MISSED'}")  # fmt: skip
    print(f"vtui TUI, Server screen following it: peak RSS {tui_peak:.0f} MiB, ratio to docker "
          f"{tui_peak / docker_peak:.1f}; target <= 300 MiB: "
          f"{'met' if tui_peak <= 300 and tui_live else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
