"""A loopback OpenAI-compatible server that attacks its client: each attack is one entry of
ATTACKS, a function that writes the raw bytes of the answer to a chat request, so a new
attack is one entry away. /v1/models, /health and /metrics answer as a vLLM server does,
unless the test swaps their bodies (`models_body`, `metrics_body`)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, BinaryIO

from tests.support.loopback import serve_on_loopback

MODEL = "hostile/model"
# What an attacker wants a terminal to obey: write the clipboard (OSC 52), retitle the
# window (OSC 0), clear the screen (CSI 2J), and the same CSI as one C1 character.
CLIPBOARD = "\x1b]52;c;SG9zdGlsZQ==\x07"
TITLE = "\x1b]0;PWNED-TITLE\x07"
CLEAR = "\x1b[2J\x1b[H"
C1_CSI = "\x9b2J"
ESCAPES = CLIPBOARD + TITLE + CLEAR + C1_CSI


def chunk(delta: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk", "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}], **extra}  # fmt: skip


def event(data: object) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"data: {text}\n\n".encode()


def _sse(out: BinaryIO, *events: bytes) -> None:
    for item in events:
        out.write(item)
        out.flush()


def escapes_in_content(out: BinaryIO) -> None:
    _sse(out, event(chunk({"reasoning": "think " + ESCAPES})),
         event(chunk({"content": "answer " + ESCAPES + " end"})), event("[DONE]"))  # fmt: skip


def nested_json(out: BinaryIO) -> None:
    _sse(out, event("[" * 100_000 + "]" * 100_000), event("[DONE]"))


def wrong_types(out: BinaryIO) -> None:
    _sse(out, event(chunk({"content": "fine"}, usage={"prompt_tokens": "x",
                                                       "completion_tokens": 3})),
         event("[DONE]"))  # fmt: skip


def content_is_a_number(out: BinaryIO) -> None:
    _sse(out, event(chunk({"content": 12345})), event("[DONE]"))


def choices_is_a_string(out: BinaryIO) -> None:
    _sse(out, event({"choices": "nope"}), event("[DONE]"))


def huge_line(out: BinaryIO) -> None:
    out.write(b"data: " + b"A" * (8 * 1024 * 1024))  # eight MiB and never a line end
    out.flush()
    time.sleep(5)


def endless_comments(out: BinaryIO) -> None:
    for _ in range(600):  # a minute of keep-alives, never an event
        out.write(b": keep-alive\n\n")
        out.flush()
        time.sleep(0.1)


def trickle(out: BinaryIO) -> None:
    for byte in event(chunk({"content": "slow"})) * 100:
        out.write(bytes([byte]))
        out.flush()
        time.sleep(0.5)


def escapes_in_error(out: BinaryIO) -> None:
    _sse(out, event({"error": {"message": "bad " + ESCAPES, "code": 400}}))


ATTACKS: dict[str, Callable[[BinaryIO], None]] = {
    "escapes-in-content": escapes_in_content,
    "nested-json": nested_json,
    "wrong-types": wrong_types,
    "content-is-a-number": content_is_a_number,
    "choices-is-a-string": choices_is_a_string,
    "huge-line": huge_line,
    "endless-comments": endless_comments,
    "trickle": trickle,
    "escapes-in-error": escapes_in_error,
}


@dataclass
class HostileEndpoint:
    url: str
    attack: str = "escapes-in-content"
    models_body: bytes = field(
        default_factory=lambda: json.dumps(
            {"object": "list", "data": [{"id": MODEL, "object": "model", "max_model_len": 4096}]}
        ).encode()
    )
    metrics_body: bytes = b"vllm:num_requests_running 1\n"
    models_status: int = 200  # what /v1/models answers with (401: a wrong key)
    chats: int = 0


@contextmanager
def hostile_endpoint(attack: str = "escapes-in-content") -> Iterator[HostileEndpoint]:
    server_state = HostileEndpoint("", attack)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _whole(self, body: bytes, kind: str = "application/json", status: int = 200) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/health":
                self._whole(b"")
            elif self.path == "/v1/models":
                self._whole(server_state.models_body, status=server_state.models_status)
            elif self.path == "/metrics":
                self._whole(server_state.metrics_body, "text/plain; version=0.0.4")
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            server_state.chats += 1
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True
            # The client giving up mid-attack is what it should do.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                ATTACKS[server_state.attack](self.wfile)

    with serve_on_loopback(Handler) as server:
        server_state.url = f"http://127.0.0.1:{server.server_address[1]}"
        yield server_state
