"""vtui on a pseudo-terminal, as a user over SSH runs it: what it writes there is what a real
terminal would obey, so a test reads those raw bytes (a pilot test cannot see them)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class PtySession:
    pid: int
    fd: int
    screen: bytearray = field(default_factory=bytearray)

    def read(self, seconds: float) -> bytes:
        """What vtui writes in the next `seconds`; also kept in `screen`."""
        got = bytearray()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    got += os.read(self.fd, 65536)
                except OSError:
                    break
        self.screen += got
        return bytes(got)

    def read_until(self, needle: bytes, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if needle in self.screen:
                return True
            self.read(0.2)
        return needle in self.screen

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def alive(self) -> bool:
        return os.waitpid(self.pid, os.WNOHANG) == (0, 0)


@contextmanager
def vtui_on_a_terminal(
    *args: str, env: dict[str, str], rows: int = 45, cols: int = 160
) -> Iterator[PtySession]:
    pid, fd = pty.fork()
    if pid == 0:  # the child: vtui, on the terminal's other end
        os.execvpe(sys.executable, [sys.executable, "-m", "vtui", *args],
                   {**env, "TERM": "xterm-256color"})  # fmt: skip
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    session = PtySession(pid, fd)
    try:
        yield session
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os.close(fd)
