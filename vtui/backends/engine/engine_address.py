"""Where the Docker engine is, and why it cannot be reached: one place for both the
engine backend and `vtui doctor`, which said the same things in two ways before.

The reason is found by trying the socket (docker-py buries the errno in layers of text);
only a non-socket address, or a socket that connects, falls back to the library's words.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from vtui.core.terminal_text import visible

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
PROBE_TIMEOUT = 5.0  # seconds


@dataclass(frozen=True)
class SocketProblem:
    kind: str  # missing, permission, refused, other
    words: str  # the system's own short words: "no such file"


# What each kind means to the user, and what to do about it.
ADVICE = {
    "missing": "no socket there. Is Docker Engine installed and dockerd running?",
    "permission": "permission denied on the socket. Run vtui as root, or add this user to "
    "the docker group (sudo usermod -aG docker $USER, then log in again).",
    "refused": "connection refused. Is dockerd running?",
}


def engine_address(base_url: str | None = None) -> str:
    """The address vtui uses: the one given, else DOCKER_HOST, else the default socket."""
    return base_url or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


def socket_problem(where: str) -> SocketProblem | None:
    """For a unix socket, why it cannot be used; None when it connects or is not one."""
    parts = urlsplit(where)
    if parts.scheme not in ("unix", "") or not parts.path:
        return None
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(PROBE_TIMEOUT)
    try:
        probe.connect(parts.path)
    except FileNotFoundError:
        return SocketProblem("missing", "no such file")
    except PermissionError:
        return SocketProblem("permission", "permission denied")
    except ConnectionRefusedError:
        return SocketProblem("refused", "connection refused")
    except OSError as exc:
        return SocketProblem("other", exc.strerror or type(exc).__name__)
    finally:
        probe.close()
    return None


def short_words(exc: BaseException, limit: int = 200) -> str:
    """An exception's first line, bounded and safe to print."""
    text = str(exc).strip()
    return visible((text.splitlines()[0] if text else type(exc).__name__)[:limit])


# A network address's failures as requests words them, deep in its layers of text.
NETWORK_WORDS = (
    ("Connection refused", "connection refused: nothing listens there"),
    ("Name or service not known", "the host name does not resolve"),
    ("Temporary failure in name resolution", "the host name does not resolve"),
    ("No route to host", "no route to that host"),
    ("timed out", "no answer in time"),
    ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate is not trusted (check tls_ca)"),
    ("SSLError", "the TLS handshake failed (is it a TLS port? are the files right?)"),
    ("RemoteDisconnected", "it closed the connection without an answer"),
    ("Connection aborted", "it closed the connection without an answer"),
)


def why_unreachable(where: str, exc: BaseException) -> str:
    """Why the engine at `where` did not answer, in words with the fix where one is known."""
    problem = socket_problem(where)
    if problem is not None:
        return ADVICE.get(problem.kind, problem.words)
    text = str(exc)
    for found, words in NETWORK_WORDS:
        if found in text:
            return words
    return short_words(exc)
