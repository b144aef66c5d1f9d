"""The keeper of one `vllm serve` process that vtui starts: `python -m
vtui.backends.engine.supervise RECORD LOG -- ARGV...`.

It leads a process group of its own (so a stop reaches vLLM's workers too), starts ARGV in
it with stdout and stderr on one pipe, writes each line to LOG stamped as Docker stamps
them (RFC 3339, nanoseconds), and when ARGV ends writes how it ended to RECORD's ".exit"
file. vtui itself may have exited long before: the keeper is what knows the exit code.
It never reads the environment's secrets, only passes them on.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from vtui.backends.engine.log_stamps import stamp

# A line longer than this is cut into pieces as it is copied: memory stays bounded whatever
# the program prints (the reader cuts each line again to what a view shows).
CHUNK = 64 * 1024


def copy_lines(source: IO[bytes], log: IO[bytes]) -> None:
    """Each line of the child's output, stamped, written as it comes."""
    while True:
        raw = source.readline(CHUNK)
        if not raw:
            return
        text = raw.rstrip(b"\r\n")
        log.write(stamp(time.time_ns()).encode() + b" " + text + b"\n")


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print("usage: supervise RECORD LOG -- ARGV...", file=sys.stderr)
        return 2
    record, log_path, command = Path(argv[0]), Path(argv[1]), argv[3:]
    exit_path = record.with_suffix(".exit")
    with contextlib.suppress(FileNotFoundError):
        exit_path.unlink()
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(log_fd, "ab", buffering=0) as log:
        try:
            child = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        except OSError as exc:
            why = f"cannot start {command[0]}: {exc.strerror or exc}"
            log.write(stamp(time.time_ns()).encode() + b" " + why.encode() + b"\n")
            _write_exit(exit_path, {"code": 127, "signal": None, "why": why})
            return 127

        def forward(signum: int, _frame: object) -> None:
            child.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        assert child.stdout is not None
        copy_lines(child.stdout, log)
        code = child.wait()
    ended = {"code": code if code >= 0 else None, "signal": -code if code < 0 else None}
    _write_exit(exit_path, ended | {"at": time.time()})
    return 0


def _write_exit(path: Path, ended: dict[str, object]) -> None:
    temporary = path.with_suffix(".exit.tmp")
    temporary.write_text(json.dumps(ended), encoding="utf-8")
    os.replace(temporary, path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
