"""Whether a port on this machine is already taken: the one socket probe launch checks need."""

from __future__ import annotations

import errno
import socket


def port_in_use(host: str, port: int) -> bool:
    """Whether binding host:port would fail because something already has it."""
    if not 0 < port <= 65535:
        return False  # no such port: the launch checks say so, not this probe
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False
