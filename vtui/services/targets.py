"""Which server a chat or a load test talks to: a vLLM container of the engine's (by name,
else the active one), or any OpenAI-compatible URL the user gives."""

from __future__ import annotations

from vtui.backends.endpoint import ChatEndpoint, EndpointError
from vtui.backends.registry import Backends
from vtui.core.chat_errors import CLI_HINTS, ChatTarget, explain
from vtui.core.deployments import active_deployment
from vtui.core.errors import BackendUnavailable, VtuiError
from vtui.core.records import Deployment
from vtui.services.deployments import find


class NoTarget(VtuiError):
    """Nothing to talk to; the words say what to do instead."""


def deployment_for(backends: Backends, name: str | None, *, running: bool = False) -> Deployment:
    """The container `name` names, else the active one, with a published port (and
    running, when asked). Raises NoTarget."""
    try:
        deployments = backends.engine.list_deployments()
    except BackendUnavailable as exc:
        raise NoTarget(f"{exc.reason}; or pass --endpoint URL") from exc
    d = find(deployments, name) if name else active_deployment(deployments)
    if d is None or d.base_url is None or (running and not d.live):
        which = f"called {name!r} " if name else ""
        state = "running " if running else ""
        raise NoTarget(
            f"no {state}vLLM container {which}with a published port here (see `vtui ps`); "
            "start one with `vtui up PROFILE`, or pass --endpoint URL"
        )
    return d


def first_model(endpoint: ChatEndpoint, key_source: str = "no API key") -> str:
    """The first model the server lists. Its refusal is explained as a chat's would be: a
    wrong key (401) says so, not "cannot list the models". Raises NoTarget."""
    try:
        models = endpoint.served_models()
    except EndpointError as exc:
        target = ChatTarget(endpoint.base_url, "", api_key_source=key_source)
        said = explain(exc.fault, target, hints=CLI_HINTS)
        raise NoTarget(f"{said.title} {said.advice}") from exc
    if not models:
        raise NoTarget(f"{endpoint.base_url}/v1/models lists no model")
    return models[0]
