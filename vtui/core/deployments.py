"""Which of vtui's deployments the header, the chat pane and the GPU panel follow."""

from __future__ import annotations

from vtui.core.records import ContainerState, Deployment

_PREFERENCE = (ContainerState.RUNNING, ContainerState.STARTING, ContainerState.UNHEALTHY)


def active_deployment(
    deployments: list[Deployment], chosen: str | None = None
) -> Deployment | None:
    """The one chosen on the Server screen while it exists; else the running one first, then
    one on its way up; otherwise the first that exists."""
    for deployment in deployments:
        if deployment.container_id == chosen:
            return deployment
    for state in _PREFERENCE:
        for deployment in deployments:
            if deployment.state == state:
                return deployment
    return deployments[0] if deployments else None
