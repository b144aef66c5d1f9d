"""Endpoints attached by URL (`vtui attach URL`): any OpenAI-compatible server, here or far
away, as a deployment without a log. Health, served models, /metrics, chat and the load
test work on it; its log and start-up phases cannot be known, and the Server screen says so.

Kept in `state/attached.json`: the name, the URL and the *name* of the environment variable
holding its key, never the key itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from vtui.backends.engine import PullListener
from vtui.core import labels
from vtui.core.errors import EngineFailed, EngineRefused, NoSuchContainer
from vtui.core.records import ContainerState, Deployment, LogLine, RunRequest
from vtui.core.terminal_text import visible

PREFIX = "url-"
HEALTH_KEEP_S = 5.0  # a screen polls each second; a far server is asked at most this often
RUNTIME = "endpoint"


class _NoLog:
    """A log with no line that stays open, as a quiet container's does, until closed: an
    empty follow that ended at once would have the watch re-attach without pause."""

    def __init__(self) -> None:
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[LogLine]:
        self._closed.wait()
        return iter(())

    def close(self) -> None:
        self._closed.set()


class AttachedEndpoints:
    label = "attached endpoints"

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "attached.json"
        self._health: dict[str, tuple[float, bool]] = {}

    def now(self) -> float:
        return time.time()

    def _entries(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            why = f"{self.path}: vtui cannot read its list of endpoints ({exc})"
            raise EngineFailed(why) from exc
        if not isinstance(data, list):
            raise EngineFailed(f"{self.path}: not a list of endpoints")
        # The user's own file, edited by hand perhaps: its names are shown, never obeyed.
        return [
            {k: visible(v) if isinstance(v, str) else v for k, v in e.items()}
            for e in data
            if isinstance(e, dict) and str(e.get("id", "")).startswith(PREFIX)
        ]

    def _write(self, entries: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_suffix(".json.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entries, handle, indent=2)
        os.replace(temporary, self.path)

    def attach(
        self, name: str, url: str, key_env: str | None, models: tuple[str, ...]
    ) -> Deployment:
        """Raises EngineRefused when the name is taken."""
        entries = self._entries()
        if any(e.get("name") == name for e in entries):
            raise EngineRefused(f'an endpoint named "{name}" is attached already')
        entry = {
            "id": PREFIX + secrets.token_hex(8),
            "name": name,
            "url": url,
            "key_env": key_env,
            "models": list(models),
        }
        self._write([*entries, entry])
        return self._deployment(entry)

    def key_env(self, container_id: str) -> str | None:
        value = self._entry(container_id).get("key_env")
        return str(value) if value else None

    def _entry(self, container_id: str) -> dict[str, Any]:
        for entry in self._entries():
            if entry["id"] == container_id:
                return entry
        raise NoSuchContainer(f"no such endpoint: {container_id}")

    def _healthy(self, entry: dict[str, Any]) -> bool:
        kept = self._health.get(entry["id"])
        if kept is not None and time.monotonic() - kept[0] < HEALTH_KEEP_S:
            return kept[1]
        from vtui.backends.endpoint.http import HttpEndpoint

        healthy = HttpEndpoint(str(entry["url"]), None, timeout=2.0).health()
        self._health[entry["id"]] = (time.monotonic(), healthy)
        return healthy

    def _deployment(self, entry: dict[str, Any]) -> Deployment:
        from urllib.parse import urlsplit

        parts = urlsplit(str(entry["url"]))
        port = parts.port or (443 if parts.scheme == "https" else 80)
        healthy = self._healthy(entry)
        return Deployment(
            container_id=str(entry["id"]),
            name=str(entry["name"]),
            image=str(entry["url"]),
            model=visible(", ".join(str(m) for m in entry.get("models") or ())) or "?",
            state=ContainerState.RUNNING if healthy else ContainerState.UNHEALTHY,
            host=parts.hostname or "?",
            port=port,
            labels={labels.RUNTIME: RUNTIME},
        )

    def list_deployments(self) -> list[Deployment]:
        return [self._deployment(e) for e in self._entries()]

    def inspect(self, container_id: str) -> Deployment:
        return self._deployment(self._entry(container_id))

    def log_lines(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> list[LogLine]:
        self._entry(container_id)
        return []  # its log is on the server's own machine

    def logs(self, container_id: str, tail: int = 1000) -> list[str]:
        return []

    def follow_logs(
        self, container_id: str, since_ns: int | None = None, tail: int | None = None
    ) -> _NoLog:
        self._entry(container_id)
        return _NoLog()

    def run(self, request: RunRequest, on_pull: PullListener | None = None) -> Deployment:
        raise EngineRefused("an attached endpoint is started where it runs, not by vtui")

    def containers_of(self, pids: Collection[int]) -> dict[int, str]:
        return {}

    def api_key(self, container_id: str) -> str | None:
        """The key from the environment variable named at attach time, read now."""
        env = self.key_env(container_id)
        return os.environ.get(env) if env else None

    def stop(self, container_id: str, timeout: int = 10) -> None:
        raise EngineRefused("vtui did not start this server: stop it where it runs")

    def restart(self, container_id: str, timeout: int = 10) -> None:
        raise EngineRefused("vtui did not start this server: restart it where it runs")

    def remove(self, container_id: str) -> None:
        """Detach: forget the endpoint (the server itself is left as it is)."""
        entries = self._entries()
        kept = [e for e in entries if e["id"] != container_id]
        if len(kept) == len(entries):
            raise NoSuchContainer(f"no such endpoint: {container_id}")
        self._write(kept)
        with contextlib.suppress(KeyError):
            del self._health[container_id]
