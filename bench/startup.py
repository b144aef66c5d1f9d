"""Time to first frame of `vtui --demo` against a bare Textual app (Header, Static, Footer).

Each app starts in a fresh interpreter on a real pseudo-terminal (120x40); one sample is the
time from launching the interpreter to the app's first completed refresh (reported by the
child through a pipe, so the app's teardown is not counted). The two apps
alternate so that machine noise falls on both alike. Prints medians and the ratio.

    python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.3


def drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass  # EIO: the child closed the terminal


def drain_terminal_run(args: list[str], timeout: float = 120) -> str:
    """Run `python ARGS` on a fresh 120x40 pseudo-terminal; "{fd}" in ARGS becomes a pipe
    the child writes its report to. Returns the report."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    reader = threading.Thread(target=drain, args=(master,), daemon=True)
    reader.start()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    report_r, report_w = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, *(str(report_w) if a == "{fd}" else a for a in args)],
        cwd=REPO,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        pass_fds=(report_w,),
    )
    os.close(slave)
    os.close(report_w)
    with os.fdopen(report_r) as report:
        text = report.read()
    code = proc.wait(timeout=timeout)
    os.close(master)
    reader.join(timeout=1)
    if code != 0 or not text:
        raise SystemExit(f"{' '.join(args)} exited with {code} before it reported")
    return text


def one_run(which: str) -> float:
    started = time.time()
    first_frame = drain_terminal_run(["-m", "bench.first_frame", which, "{fd}"], timeout=60)
    return float(first_frame) - started


def silent_hosts() -> None:
    """A config.toml naming two hosts that take the connection and never answer (over
    tcp:// and ssh://), for the real backends' first frame: it must not wait for them."""
    import socket
    import tempfile

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: [held.append(listener.accept()[0]) for _ in iter(int, 1)],
                     daemon=True).start()  # fmt: skip
    port = listener.getsockname()[1]
    home = Path(tempfile.mkdtemp(prefix="vtui-bench-hosts-"))
    (home / "vtui").mkdir()
    (home / "vtui" / "config.toml").write_text(
        f'[hosts.mute-tcp]\ndocker = "tcp://127.0.0.1:{port}"\n\n'
        f'[hosts.mute-ssh]\ndocker = "ssh://root@127.0.0.1:{port}"\n'
    )
    os.environ["XDG_CONFIG_HOME"] = str(home)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument(
        "--silent-hosts",
        action="store_true",
        help="measure the real backends (not the demo) with two hosts configured that never answer",
    )
    args = parser.parse_args()
    which = "vtui-real" if args.silent_hosts else "vtui"
    if args.silent_hosts:
        silent_hosts()
    one_run("bare")  # warm the file cache for both before measuring
    one_run(which)
    samples: dict[str, list[float]] = {"bare": [], which: []}
    for _ in range(args.runs):
        for which in samples:
            samples[which].append(one_run(which))
    bare = statistics.median(samples["bare"])
    vtui = statistics.median(samples[which])
    ratio = vtui / bare
    print(f"runs each:            {args.runs}")
    print(
        f"bare Textual app:     median {bare * 1000:.0f} ms "
        f"(min {min(samples['bare']) * 1000:.0f}, max {max(samples['bare']) * 1000:.0f})"
    )
    label = "vtui, 2 silent hosts:" if args.silent_hosts else "vtui --demo:         "
    print(
        f"{label} median {vtui * 1000:.0f} ms "
        f"(min {min(samples[which]) * 1000:.0f}, max {max(samples[which]) * 1000:.0f})"
    )
    print(f"ratio vtui / bare:    {ratio:.2f}  (target <= {TARGET_RATIO})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
