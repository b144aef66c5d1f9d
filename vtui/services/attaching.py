"""Attaching any OpenAI-compatible server by URL, as `vtui attach` does: checked first (it
answers /v1/models with a model list, with the key given), then kept by name."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from vtui.backends.endpoint import EndpointError
from vtui.backends.registry import Backends, endpoint_at
from vtui.core.chat_errors import CLI_HINTS, ChatTarget, explain
from vtui.core.errors import EngineError, VtuiError
from vtui.core.records import Deployment
from vtui.core.safe_names import PROFILE_NAME


class AttachRefused(VtuiError):
    """The URL is no server vtui can attach; the words say why."""


@dataclass(frozen=True)
class Attached:
    deployment: Deployment
    models: tuple[str, ...]


def attach(
    backends: Backends, url: str, name: str | None = None, key_env: str | None = None
) -> Attached:
    """Raises AttachRefused with one line naming the cause."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AttachRefused(f"{url}: give a URL, as http://10.0.0.5:8000")
    url = url.rstrip("/").removesuffix("/v1")
    key = None
    if key_env:
        key = os.environ.get(key_env)
        if not key:
            raise AttachRefused(f"${key_env} is not set (--api-key-env names the variable)")
    name = name or _name_for(parts.hostname, parts.port)
    if not PROFILE_NAME.fullmatch(name):
        raise AttachRefused(f"{name!r} is not a name: use letters, digits, '.', '_' or '-'")
    endpoint = endpoint_at(url, key)
    try:
        models = tuple(endpoint.served_models())
    except EndpointError as exc:
        source = f"${key_env}" if key_env else "no API key"
        said = explain(exc.fault, ChatTarget(url, "", api_key_source=source), hints=CLI_HINTS)
        raise AttachRefused(f"{url} is not attached: {said.title} {said.advice}") from exc
    if not models:
        raise AttachRefused(f"{url}/v1/models lists no model: nothing to talk to")
    try:
        attached = backends.attached.attach(name, url, key_env, models)
    except EngineError as exc:
        raise AttachRefused(str(exc)) from exc
    return Attached(attached, models)


def _name_for(host: str, port: int | None) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{host}-{port or 80}")[:63]
