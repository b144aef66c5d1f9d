"""A loopback stand-in for the Hugging Face Hub's model listing API (GET /api/models)."""

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

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            hub.requests.append((parts.path, query))
            if parts.path != "/api/models":
                self.send_error(404)
                return
            needle = query.get("search", [""])[0].lower()
            limit = int(query.get("limit", ["1000"])[0])
            found = [m for m in MODELS if needle in m["id"].lower()]
            found.sort(key=lambda m: m["downloads"], reverse=True)
            data = json.dumps(found[:limit]).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
