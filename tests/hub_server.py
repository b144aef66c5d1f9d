"""A loopback stand-in for the Hugging Face Hub: the model listing (GET /api/models), one
model's metadata (GET /api/models/ORG/NAME) and file downloads (HEAD/GET .../resolve/REV/FILE),
with the headers huggingface_hub reads (X-Repo-Commit, ETag, X-Error-Code)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from vtui.sim.catalogue import CATALOGUE
from vtui.sim.model_configs import config_json, dtype_parameters


def hub_record(repo_id: str, downloads: int, likes: int, params: int) -> dict[str, Any]:
    """One model as the Hub lists it with expand=downloads,likes,pipeline_tag,safetensors."""
    return {
        "_id": f"{abs(hash(repo_id)):024x}"[:24],
        "id": repo_id,
        "downloads": downloads,
        "likes": likes,
        "pipeline_tag": "text-generation",
        "safetensors": {"parameters": {"BF16": params}, "total": params},
    }


COMMIT = "0123456789abcdef0123456789abcdef01234567"
GATED = "meta-llama/Gated-Model"
CONFIGS = {m.repo_id: config_json(m) for m in CATALOGUE}
PARAMETERS = {m.repo_id: dtype_parameters(m) for m in CATALOGUE}
MODELS = [
    hub_record(m.repo_id, m.downloads, m.likes, int(m.params_billions * 1e9)) for m in CATALOGUE
]


@dataclass
class FakeHub:
    url: str
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)


@contextmanager
def hub_server() -> Iterator[FakeHub]:
    hub = FakeHub("")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"error": message}).encode()
            self._send(status, body, {"X-Error-Code": code, "X-Error-Message": message})

        def _model(self, path: str) -> None:
            repo = path.removeprefix("/api/models/")
            if repo == GATED:
                self._error(401, "GatedRepo", "Access to this model is restricted")
            elif repo not in CONFIGS:
                self._error(404, "RepoNotFound", "Repository not found")
            else:
                params = PARAMETERS[repo]
                weights = {"parameters": params, "total": sum(params.values())}
                record = {"_id": "0" * 24, "id": repo, "sha": COMMIT, "safetensors": weights}
                body = json.dumps(record).encode()
                self._send(200, body, {"content-type": "application/json"})

        def _file(self, path: str) -> None:
            repo, _, rest = path.lstrip("/").partition("/resolve/")
            filename = rest.partition("/")[2]
            if repo == GATED:
                self._error(401, "GatedRepo", "Access to this model is restricted")
            elif repo not in CONFIGS:
                self._error(404, "RepoNotFound", "Repository not found")
            elif filename != "config.json":
                self._error(404, "EntryNotFound", "Entry not found")
            else:
                body = json.dumps(CONFIGS[repo], indent=2).encode()
                etag = f'"{abs(hash(body)):x}"'
                self._send(200, body, {"X-Repo-Commit": COMMIT, "ETag": etag,
                                       "content-type": "application/json"})  # fmt: skip

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            hub.requests.append((parts.path, query))
            if parts.path.startswith("/api/models/"):
                self._model(parts.path)
                return
            if "/resolve/" in parts.path:
                self._file(parts.path)
                return
            if parts.path != "/api/models":
                self.send_error(404)
                return
            needle = query.get("search", [""])[0].lower()
            limit = int(query.get("limit", ["1000"])[0])
            found = [m for m in MODELS if needle in m["id"].lower()]
            found.sort(key=lambda m: m["downloads"], reverse=True)
            data = json.dumps(found[:limit]).encode()
            self._send(200, data, {"content-type": "application/json; charset=utf-8"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
