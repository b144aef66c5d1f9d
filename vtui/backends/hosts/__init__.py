"""The Docker hosts vtui can reach: this machine's engine, the Docker CLI's contexts and
the hosts of vtui's config.toml. The real book reads those files; the demo's has its own."""

from __future__ import annotations

from typing import Protocol

from vtui.core.hosts import Host


class HostBook(Protocol):
    def hosts(self) -> tuple[list[Host], list[str]]:
        """Every host by name (local first), and a line for each entry that cannot be used.
        Raises nothing: an unreadable file is one of those lines."""
        ...
