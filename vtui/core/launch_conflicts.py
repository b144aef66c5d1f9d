"""Whether a launch may go ahead beside the containers already on the engine, and why not.

The Docker engine and the demo world both ask this, so both refuse in the same words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vtui.core.errors import EngineRefused
from vtui.core.records import RunRequest

_ANYWHERE = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class ExistingContainer:
    container_id: str
    name: str
    running: bool
    ours: bool  # carries vtui's labels
    published: tuple[tuple[str, int], ...] = ()  # (host address, host port)


def _same_address(published: str, wanted: str) -> bool:
    return published == wanted or published in _ANYWHERE or wanted in _ANYWHERE


def replaced_by(request: RunRequest, existing: Iterable[ExistingContainer]) -> list[str]:
    """The containers the launch replaces (stopped ones of vtui's with its name).

    Raises EngineRefused, with the reason and what to do, when a running container has the
    name or publishes the port, or a container that is not vtui's has the name.
    """
    replace = []
    for other in existing:
        if other.name == request.name:
            if other.running:
                raise EngineRefused(
                    f'a container named "{request.name}" is already running; stop it '
                    f"first (vtui down {request.name}) or give this launch another "
                    "container name"
                )
            if not other.ours:
                raise EngineRefused(
                    f'a container named "{request.name}" exists and is not vtui\'s; '
                    f"remove it (docker rm {request.name}) or choose another name"
                )
            # A stopped container of ours: replaced, as `docker compose up` does.
            replace.append(other.container_id)
        elif other.running and any(
            port == request.host_port and _same_address(address, request.host)
            for address, port in other.published
        ):
            raise EngineRefused(
                f"port {request.host_port} is already published by the running "
                f'container "{other.name}"; stop it or choose another port'
            )
    return replace
