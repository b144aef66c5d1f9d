"""The hosts as the user's files say: the Docker CLI's contexts (what `docker context ls`
lists, in $DOCKER_CONFIG or ~/.docker) and the [hosts.NAME] tables of vtui's config.toml.

Every file is read bounded and parsed defensively: a context folder another tool wrote, or
a hand-edited config, is outside text like any other.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from vtui.backends.engine.engine_address import DEFAULT_SOCKET
from vtui.core.hosts import Host, HostProblem, all_hosts, config_hosts, context_host

MAX_FILE_BYTES = 256 * 1024
MAX_CONTEXTS = 200


def _read(path: Path) -> str:
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise HostProblem(f"{path} is larger than {MAX_FILE_BYTES // 1024} KiB")
    return data.decode("utf-8", errors="replace")


def docker_config_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("DOCKER_CONFIG") or Path(env.get("HOME", "~")).expanduser() / ".docker")


def current_context(folder: Path, env: Mapping[str, str]) -> str | None:
    if env.get("DOCKER_CONTEXT"):
        return env["DOCKER_CONTEXT"]
    try:
        config = json.loads(_read(folder / "config.json"))
    except (OSError, ValueError, HostProblem):
        return None
    name = config.get("currentContext") if isinstance(config, dict) else None
    return name if isinstance(name, str) else None


def docker_contexts(env: Mapping[str, str]) -> tuple[list[Host], list[str]]:
    """The contexts in the Docker CLI's folder: meta/<sha256 of name>/meta.json, with TLS
    files in tls/<same>/docker/ when the context has them."""
    folder = docker_config_dir(env)
    meta_root = folder / "contexts" / "meta"
    current = current_context(folder, env)
    hosts: list[Host] = []
    problems: list[str] = []
    try:
        entries = sorted(meta_root.iterdir())[:MAX_CONTEXTS]
    except OSError:
        return [], []  # no contexts: the common case
    for entry in entries:
        meta_path = entry / "meta.json"
        try:
            meta = json.loads(_read(meta_path))
            name = meta.get("Name") if isinstance(meta, dict) else None
            tls_dir = folder / "contexts" / "tls" / entry.name / "docker"
            host = context_host(meta, str(tls_dir) if tls_dir.is_dir() else None, current)
            if hashlib.sha256(str(name).encode()).hexdigest() != entry.name:
                raise HostProblem(f"context {host.name}: its folder is not named for it")
            hosts.append(host)
        except (OSError, ValueError, HostProblem) as exc:
            problems.append(f"{meta_path}: {exc}")
    return hosts, problems


def vtui_config_hosts(config_dir: Path) -> tuple[list[Host], list[str]]:
    path = config_dir / "config.toml"
    try:
        text = _read(path)
    except FileNotFoundError:
        return [], []
    except (OSError, HostProblem) as exc:
        return [], [f"{path}: {exc}"]
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        document = tomlkit.parse(text).unwrap()
    except ParseError as exc:
        return [], [f"{path}: not TOML: {exc}"]
    tables = document.get("hosts", {})
    if not isinstance(tables, dict):
        return [], [f"{path}: hosts must be a table of [hosts.NAME] tables"]
    hosts, problems = config_hosts(tables)
    return hosts, [f"{path}: {p}" for p in problems]


class FileHostBook:
    def __init__(self, config_dir: Path, env: Mapping[str, str] = os.environ) -> None:
        self.config_dir, self.env = config_dir, env

    def hosts(self) -> tuple[list[Host], list[str]]:
        contexts, context_problems = docker_contexts(self.env)
        configured, config_problems = vtui_config_hosts(self.config_dir)
        hosts, clashes = all_hosts(
            DEFAULT_SOCKET, self.env.get("DOCKER_HOST"), contexts, configured
        )
        return hosts, [*context_problems, *config_problems, *clashes]
