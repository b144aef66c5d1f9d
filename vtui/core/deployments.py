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
    servers = [d for d in deployments if d.worker_role is None]  # a Ray worker serves nothing
    for state in _PREFERENCE:
        for deployment in servers:
            if deployment.state == state:
                return deployment
    listed = servers or deployments
    return listed[0] if listed else None


def heads_first(deployments: list[Deployment]) -> list[Deployment]:
    """The list with each Ray worker right after its head (same host or not), in node
    order; a worker whose head is not listed stays where it was."""
    heads = {d.group for d in deployments if d.group is not None and d.worker_role is None}
    workers: dict[str, list[Deployment]] = {}
    for d in deployments:
        if d.worker_role is not None and d.group in heads:
            workers.setdefault(str(d.group), []).append(d)
    out: list[Deployment] = []
    for d in deployments:
        if d.worker_role is not None and d.group in heads:
            continue  # it goes after its head
        out.append(d)
        if d.worker_role is None and d.group in workers:
            out += sorted(workers.pop(str(d.group)), key=_node_number)
    return out


def _node_number(d: Deployment) -> int:
    number = (d.worker_role or "").removeprefix("worker-")
    return int(number) if number.isdigit() else 0


def node_note(d: Deployment) -> str | None:
    """What a Ray worker is, for its row: "worker-1 of PROFILE"."""
    return f"{d.worker_role} of {d.group}" if d.worker_role and d.group else None
