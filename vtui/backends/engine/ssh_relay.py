"""A remote Docker engine over ssh, as a local unix socket.

Each connection to the socket runs `ssh HOST -- docker system dial-stdio` (what the
Docker CLI itself runs for an ssh:// host, so the remote side's DOCKER_HOST and context
count) and relays bytes both ways. vtui runs the system `ssh`, so ~/.ssh/config, agents
and jump hosts keep working, with options that keep it from ever waiting on a person or
a silent host: BatchMode (no password prompt in the middle of a TUI), a connect timeout
that also bounds the banner exchange, keep-alives that notice a dead link, and one shared
master connection per host so a request does not pay for a new handshake.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

from vtui.core.terminal_text import visible

CONNECT_TIMEOUT_S = 5
KEEPALIVE_S = 5
CHUNK = 65536
STDERR_LINES = 5


def ssh_options(control_path: Path, port: int | None) -> list[str]:
    options = [
        "-o", "BatchMode=yes",
        "-o", f"ConnectTimeout={CONNECT_TIMEOUT_S}",
        "-o", f"ServerAliveInterval={KEEPALIVE_S}",
        "-o", "ServerAliveCountMax=2",
        "-o", "ControlMaster=auto",
        "-o", f"ControlPath={control_path}",
        "-o", "ControlPersist=60",
    ]  # fmt: skip
    if port is not None:
        options += ["-p", str(port)]
    return options


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int, proc: subprocess.Popen[bytes], limit: float) -> bool:
    """Whether the tunnel's port takes connections before ssh gives up or time runs out."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


class SshRelay:
    """Serves `socket_path` while open; close() ends every relayed connection and the
    shared ssh master. `last_error` holds ssh's own words when a connection failed."""

    def __init__(self, target: str, port: int | None) -> None:
        if target.startswith("-"):
            raise ValueError(f"{target!r} is not an ssh destination")
        self.target, self.port = target, port
        self._folder = Path(tempfile.mkdtemp(prefix="vtui-ssh-"))
        self.socket_path = self._folder / "docker.sock"
        self._control = self._folder / "master"
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.socket_path))
        self._listener.listen(16)
        self._closed = threading.Event()
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._errors: deque[str] = deque(maxlen=STDERR_LINES)
        self._tunnels: dict[tuple[str, int], tuple[subprocess.Popen[bytes], int]] = {}
        threading.Thread(target=self._accept, daemon=True, name=f"ssh-relay {target}").start()

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def last_error(self) -> str | None:
        with self._lock:
            return self._errors[-1] if self._errors else None

    def command(self, *remote: str) -> list[str]:
        """The ssh command line that runs `remote` on the host over the shared master."""
        return ["ssh", *ssh_options(self._control, self.port), "--", self.target, *remote]

    def forward(self, remote_host: str, remote_port: int) -> int:
        """A local port on 127.0.0.1 that reaches remote_host:remote_port as seen from the
        far side (an ssh -L tunnel), kept while the relay is open. Raises OSError."""
        key = (remote_host, remote_port)
        with self._lock:
            known = self._tunnels.get(key)
            if known is not None and known[0].poll() is None:
                return known[1]
        for _attempt in range(3):  # a port taken between choosing it and ssh binding it
            port = _free_port()
            proc = subprocess.Popen(
                [
                    "ssh", *ssh_options(self._control, self.port),
                    "-o", "ExitOnForwardFailure=yes", "-N",
                    "-L", f"127.0.0.1:{port}:{remote_host}:{remote_port}",
                    "--", self.target,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )  # fmt: skip
            if _listening(port, proc, CONNECT_TIMEOUT_S * 2):
                with self._lock:
                    self._tunnels[key] = (proc, port)
                    self._procs.add(proc)
                return port
            self._end(proc)
            if proc.stderr is not None:
                for raw in proc.stderr.read().splitlines()[-STDERR_LINES:]:
                    self._note(visible(raw[:400].decode("utf-8", "replace").strip()))
        raise OSError(
            f"no tunnel to {remote_host}:{remote_port}: {self.last_error or 'ssh failed'}"
        )

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn: socket.socket) -> None:
        try:
            proc = subprocess.Popen(
                self.command("docker", "system", "dial-stdio"),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # Ctrl-C in the terminal is vtui's, not ssh's
            )
        except OSError as exc:
            self._note(f"cannot run ssh: {exc.strerror or exc}")
            conn.close()
            return
        with self._lock:
            self._procs.add(proc)
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        stdin, stdout, stderr = proc.stdin, proc.stdout, proc.stderr

        def upstream() -> None:
            with contextlib.suppress(OSError, ValueError):
                while data := conn.recv(CHUNK):
                    stdin.write(data)
                    stdin.flush()
            with contextlib.suppress(OSError, ValueError):
                stdin.close()

        def errors() -> None:
            for raw in stderr:
                line = visible(raw[:400].decode("utf-8", "replace").strip())
                if line:
                    self._note(line)

        threading.Thread(target=upstream, daemon=True).start()
        noting = threading.Thread(target=errors, daemon=True)
        noting.start()
        with contextlib.suppress(OSError, ValueError):
            while data := os.read(stdout.fileno(), CHUNK):
                conn.sendall(data)
        # ssh's last words (a refused key, say) are noted before the client sees the end,
        # so the reason it is given is ssh's, not "closed without an answer".
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
        noting.join(timeout=2)
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        conn.close()
        self._end(proc)

    def _note(self, line: str) -> None:
        with self._lock:
            self._errors.append(line)

    def _end(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with self._lock:
            self._procs.discard(proc)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            self._end(proc)
        if self._control.exists():
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(
                    ["ssh", "-o", f"ControlPath={self._control}", "-O", "exit", self.target],
                    capture_output=True,
                    timeout=5,
                )
        shutil.rmtree(self._folder, ignore_errors=True)
