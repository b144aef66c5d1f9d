"""A loopback stand-in for the Hugging Face Hub: the model listing (GET /api/models), one
model's metadata (GET /api/models/ORG/NAME[/revision/REV], with file sizes and blob ids as
`?blobs=true` asks; .../tree/REV as `hf download` lists files) and file downloads
(HEAD/GET .../resolve/REV/FILE, LFS files redirected to a CDN on another origin as the Hub
does, Range requests answered 206), with the headers huggingface_hub reads (X-Repo-Commit,
ETag, X-Linked-Etag, X-Linked-Size, X-Error-Code). Tests can cut a file's first transfer
short, or slow every transfer down."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import serve_on_loopback
from vtui.sim.catalogue import CATALOGUE, SimModel
from vtui.sim.model_configs import config_json, dtype_parameters


def hub_record(model: SimModel) -> dict[str, Any]:
    """One model as the Hub lists it with the fields vtui asks to expand."""
    params = dtype_parameters(model)
    record = {
        "_id": f"{abs(hash(model.repo_id)):024x}"[:24],
        "id": model.repo_id,
        "downloads": model.downloads,
        "likes": model.likes,
        "pipeline_tag": model.pipeline_tag,
        "gated": model.gated or False,
        "lastModified": f"{model.updated}T10:00:00.000Z",
        "trendingScore": model.likes // 10,
        "tags": ["transformers", *model.tags, model.pipeline_tag, "region:us"],
    }
    if params:  # the Hub gives no safetensors block for repos without safetensors
        record["safetensors"] = {"parameters": params, "total": sum(params.values())}
    return record


def _band(text: str) -> tuple[float, float]:
    """The Hub's num_parameters filter, 'min:4B,max:16B', in parameters."""
    low, high = 0.0, float("inf")
    for part in text.split(","):
        key, _, value = part.partition(":")
        number = float(value.rstrip("BM")) * (1e9 if value.endswith("B") else 1e6)
        low, high = (number, high) if key == "min" else (low, number)
    return low, high


def _sort_key(name: str) -> str:
    """The record field a sort orders by; the Hub's default is downloads."""
    return name if name in ("trendingScore", "lastModified", "likes") else "downloads"


COMMIT = "0123456789abcdef0123456789abcdef01234567"
GATED = "meta-llama/Gated-Model"
CONFIGS = {m.repo_id: config_json(m) for m in CATALOGUE}
PARAMETERS = {m.repo_id: dtype_parameters(m) for m in CATALOGUE}
MODELS = [hub_record(m) for m in CATALOGUE]
BY_ID = {m.repo_id: m for m in CATALOGUE}


def _content(name: str, size: int) -> bytes:
    """Deterministic bytes that differ at every offset, so a wrong resume shows."""
    seed = hashlib.sha256(name.encode()).digest()
    blocks = (size + 31) // 32
    return b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(blocks))[
        :size
    ]


MIB = 1024 * 1024
TINY = "vtui-test/tiny-model"
# What a downloadable repo holds: what vLLM needs, and copies it must skip.
TINY_FILES: dict[str, bytes] = {
    "config.json": json.dumps(CONFIGS["Qwen/Qwen3-8B"], indent=2).encode(),
    "generation_config.json": b'{"temperature": 0.6}',
    "tokenizer.json": _content("tokenizer.json", 300_000),
    "tokenizer_config.json": b'{"model_max_length": 40960}',
    "model.safetensors.index.json": b'{"weight_map": {}}',
    "model-00001-of-00002.safetensors": _content("shard-1", 3 * MIB),
    "model-00002-of-00002.safetensors": _content("shard-2", 2 * MIB + 12345),
    "pytorch_model.bin": _content("bin", 1 * MIB),
    "original/consolidated.00.pth": _content("pth", 1 * MIB),
    "README.md": b"# tiny model",
}
LFS_MIN = 100_000  # files this large are LFS objects, served through the CDN redirect


def _blob(name: str, body: bytes) -> dict[str, Any]:
    sibling: dict[str, Any] = {"rfilename": name, "size": len(body)}
    if len(body) >= LFS_MIN:
        sha = hashlib.sha256(body).hexdigest()
        sibling["blobId"] = hashlib.sha1(b"lfs-pointer " + sha.encode()).hexdigest()
        sibling["lfs"] = {"size": len(body), "sha256": sha, "pointerSize": 134}
    else:
        sibling["blobId"] = hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest()
    return sibling


def _tree_lfs(lfs: dict[str, Any]) -> dict[str, Any]:
    return {"oid": lfs["sha256"], "size": lfs["size"], "pointerSize": lfs["pointerSize"]}


@dataclass
class FakeHub:
    url: str
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    ranges: list[tuple[str, str | None]] = field(default_factory=list)  # file GETs, Range
    bytes_sent: dict[str, int] = field(default_factory=dict)
    cut_after: dict[str, int] = field(default_factory=dict)  # first GET of FILE stops here
    # The first GET of FILE carries this byte offset flipped, as a bad proxy or disk would.
    damaged_at: dict[str, int] = field(default_factory=dict)
    authorizations: set[str] = field(default_factory=set)  # Authorization headers seen
    bytes_per_second: float | None = None  # slows every file transfer down
    files: dict[str, bytes] = field(default_factory=lambda: dict(TINY_FILES))
    cdn_url: str = ""
    # The next this-many model searches are answered 429 with this Retry-After.
    rate_limited: int = 0
    retry_after: int = 1
    # A hostile mirror: edits the tiny repo's listing before it is sent, and answers a
    # file's GET in one of BODY_LIES' ways instead of with its bytes.
    listing_edit: Callable[[dict[str, Any]], None] | None = None
    lies: dict[str, str] = field(default_factory=dict)  # file name -> a key of BODY_LIES
    accept_encodings: list[str] = field(default_factory=list)  # of every file GET
    # The token whose account accepted the gated repo's terms (auth-check answers 200).
    granted_token: str | None = None


# How a hostile mirror can answer a file's GET: the status, the headers and the bytes.
BODY_LIES = ("short", "empty", "oversize", "gzip", "416-loop")


def _lie(how: str, body: bytes, ranged: bool) -> tuple[int, dict[str, str], bytes]:
    if how == "short":  # a clean answer, whose Content-Length is honest about its half
        return 200, {}, body[: len(body) // 2]
    if how == "empty":
        return 200, {}, b""
    if how == "oversize":
        return 200, {}, body + b"\0" * 100_000
    if how == "gzip":
        return 200, {"Content-Encoding": "gzip"}, gzip.compress(body)
    # "416-loop": half the file, then "range not satisfiable" to every resume
    if ranged:
        return 416, {"Content-Range": f"bytes */{len(body)}"}, b""
    return 200, {}, body[: len(body) // 2]


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
            headers = {"X-Error-Code": code, "X-Error-Message": message}
            if status == 429:
                headers["Retry-After"] = str(hub.retry_after)
            self._send(status, body, headers)

        def _auth_check(self, repo: str) -> None:
            """The Hub's GET /api/models/REPO/auth-check: 200 when this token may read it."""
            granted = hub.granted_token is not None and (
                self.headers.get("authorization") == f"Bearer {hub.granted_token}"
            )
            if repo == GATED and not granted:
                status = 403 if self.headers.get("authorization") else 401
                self._error(status, "GatedRepo", f"Access to model {repo} is restricted")
            elif repo in (TINY, GATED) or repo in BY_ID:
                self._send(200, b"{}", {"content-type": "application/json"})
            else:
                self._error(404, "RepoNotFound", "Repository not found")

        def _model(self, path: str) -> None:
            if path.endswith("/auth-check"):
                self._auth_check(path.removeprefix("/api/models/").removesuffix("/auth-check"))
                return
            repo = path.removeprefix("/api/models/").partition("/revision/")[0]
            if repo.startswith(TINY + "/tree/"):  # the listing `hf download` asks for
                tree = [{"type": "file", "path": b["rfilename"], "size": b["size"],
                         "oid": b["blobId"], **({"lfs": _tree_lfs(b["lfs"])} if "lfs" in b else {})}
                        for b in (_blob(n, body) for n, body in hub.files.items())]  # fmt: skip
                self._send(200, json.dumps(tree).encode(), {"content-type": "application/json"})
            elif repo == TINY:
                siblings = [_blob(name, body) for name, body in hub.files.items()]
                record = {"_id": "1" * 24, "id": repo, "sha": COMMIT, "siblings": siblings}
                if hub.listing_edit is not None:
                    hub.listing_edit(record)
                self._send(200, json.dumps(record).encode(), {"content-type": "application/json"})
            elif repo == GATED:  # a gated repo's metadata is public; its files are not
                lfs = {"size": 4096, "sha256": "c" * 64, "pointerSize": 134}
                files = [{"rfilename": "config.json", "size": 700, "blobId": "a" * 40},
                         {"rfilename": "model.safetensors", "size": 4096, "blobId": "b" * 40,
                          "lfs": lfs}]  # fmt: skip
                record = {"_id": "2" * 24, "id": repo, "sha": COMMIT, "gated": "manual",
                          "siblings": files}  # fmt: skip
                self._send(200, json.dumps(record).encode(), {"content-type": "application/json"})
            elif repo not in CONFIGS:
                self._error(404, "RepoNotFound", "Repository not found")
            else:
                self._catalogue_model(BY_ID[repo])

        def _catalogue_model(self, model: SimModel) -> None:
            """model_info as the Hub gives it with ?blobs=true: metadata and file sizes."""
            record = {**hub_record(model), "sha": COMMIT,
                      "cardData": {"license": model.license}}  # fmt: skip
            shard = model.size_bytes // model.shards
            files = [(f"model-{i:05d}-of-{model.shards:05d}.safetensors", shard)
                     for i in range(1, model.shards + 1)]  # fmt: skip
            if model.quant == "GGUF":
                files = [(f"{model.repo_id.split('/')[1]}-Q4_K_M.gguf", model.size_bytes)]
            else:  # config and tokenizer with the shards, and a copy vLLM skips
                files += [("config.json", len(json.dumps(CONFIGS[model.repo_id], indent=2))),
                          ("tokenizer.json", 7_000_000),
                          ("original/consolidated.00.pth", model.size_bytes)]  # fmt: skip
            files.append(("README.md", 5_000))
            record["siblings"] = [{"rfilename": name, "size": size, "blobId": f"{i:040x}"}
                                  for i, (name, size) in enumerate(files)]  # fmt: skip
            if hub.listing_edit is not None:
                hub.listing_edit(record)
            self._send(200, json.dumps(record).encode(), {"content-type": "application/json"})

        def _tiny_file(self, filename: str) -> None:
            body = hub.files.get(filename)
            if body is None:
                self._error(404, "EntryNotFound", "Entry not found")
                return
            sibling = _blob(filename, body)
            headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{sibling["blobId"]}"'}
            if "lfs" in sibling:  # the Hub sends LFS files to its CDN
                sha = sibling["lfs"]["sha256"]
                headers |= {"X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(body)),
                            "Location": f"{hub.cdn_url}/cdn/{sha}?name={filename}"}  # fmt: skip
                self._send(302, b"", headers)
                return
            self._serve_bytes(filename, body, headers)

        def _serve_bytes(self, filename: str, body: bytes, headers: dict[str, str]) -> None:
            wanted = self.headers.get("Range")
            if self.command == "GET":
                hub.ranges.append((filename, wanted))
                hub.accept_encodings.append(self.headers.get("Accept-Encoding", ""))
            if self.command == "GET" and filename in hub.lies:
                status, extra, sent = _lie(hub.lies[filename], body, bool(wanted))
                self._send(status, sent, {**headers, **extra})
                return
            start = int(wanted.removeprefix("bytes=").split("-")[0]) if wanted else 0
            if start >= len(body) and wanted:
                self._send(416, b"", {"Content-Range": f"bytes */{len(body)}"})
                return
            part = body[start:]
            flip = hub.damaged_at.pop(filename, None) if self.command == "GET" else None
            if flip is not None and start <= flip < len(body):
                spoiled = bytearray(part)
                spoiled[flip - start] ^= 0xFF
                part = bytes(spoiled)
            self.send_response(206 if wanted else 200)
            for name, value in headers.items():
                self.send_header(name, value)
            if wanted:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("content-length", str(len(part)))
            self.end_headers()
            if self.command == "HEAD":
                return
            stop = hub.cut_after.pop(filename, None)
            sent = 0
            for offset in range(0, len(part), 65536):
                chunk = part[offset : offset + 65536]
                if stop is not None and start + sent + len(chunk) > stop:
                    chunk = chunk[: max(0, stop - start - sent)]
                    self.wfile.write(chunk)
                    hub.bytes_sent[filename] = hub.bytes_sent.get(filename, 0) + len(chunk)
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)  # the dropped connection, mid-file
                    return
                self.wfile.write(chunk)
                sent += len(chunk)
                hub.bytes_sent[filename] = hub.bytes_sent.get(filename, 0) + len(chunk)
                if hub.bytes_per_second:
                    time.sleep(len(chunk) / hub.bytes_per_second)

        def _file(self, path: str) -> None:
            repo, _, rest = path.lstrip("/").partition("/resolve/")
            filename = rest.partition("/")[2]
            if repo == TINY:
                self._tiny_file(filename)
            elif repo == GATED or (
                repo in BY_ID and BY_ID[repo].gated and not self.headers.get("authorization")
            ):
                self._error(401, "GatedRepo", "Access to this model is restricted")
            elif repo not in CONFIGS:
                self._error(404, "RepoNotFound", "Repository not found")
            elif filename != "config.json" or BY_ID[repo].quant == "GGUF":
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
            if self.headers.get("authorization"):
                hub.authorizations.add(self.headers["authorization"])
            if parts.path.startswith("/api/models/"):
                self._model(parts.path)
                return
            if "/resolve/" in parts.path:
                self._file(parts.path)
                return
            if parts.path.startswith("/cdn/"):
                name = query.get("name", [""])[0]
                self._serve_bytes(name, hub.files[name], {"ETag": f'"{parts.path[5:]}"'})
                return
            if parts.path != "/api/models":
                self.send_error(404)
                return
            if hub.rate_limited > 0:
                hub.rate_limited -= 1
                self._error(429, "RateLimited", "Too Many Requests")
                return
            self._search(query)

        def _search(self, query: dict[str, list[str]]) -> None:
            """GET /api/models: search, author, filter (tags), num_parameters, sort, limit."""
            needle = query.get("search", [""])[0].lower()
            author = query.get("author", [""])[0].lower()
            tags = set(query.get("filter", []))
            low, high = _band(query["num_parameters"][0]) if "num_parameters" in query else (
                0.0, float("inf"))  # fmt: skip
            limit = int(query.get("limit", ["1000"])[0])
            found = [
                m for m in MODELS
                if needle in m["id"].lower()
                and (not author or m["id"].lower().startswith(author + "/"))
                and tags <= set(m["tags"])
                and (("num_parameters" not in query) or (
                    "safetensors" in m and low <= m["safetensors"]["total"] <= high))
            ]  # fmt: skip
            key = _sort_key(query.get("sort", ["downloads"])[0])
            found.sort(key=lambda m: m[key], reverse=True)
            data = json.dumps(found[:limit]).encode()
            self._send(200, data, {"content-type": "application/json; charset=utf-8"})

    with serve_on_loopback(Handler) as server:
        hub.url = f"http://127.0.0.1:{server.server_address[1]}"
        # Another origin for the same server, as the Hub's CDN is another host.
        hub.cdn_url = f"http://localhost:{server.server_address[1]}"
        yield hub


def vtui_env(hub: FakeHub, cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    return {**env, "HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(cache), "HF_HOME": str(cache.parent),
            **extra}  # fmt: skip


def vtui(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vtui", *args], capture_output=True, text=True, timeout=120, env=env
    )
