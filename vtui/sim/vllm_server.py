"""A stand-in for `vllm serve` that speaks vLLM's HTTP API without a GPU.

    python3 -m vtui.sim.vllm_server --model Qwen/Qwen2.5-7B-Instruct --port 8000

It prints vLLM's start-up sequence, then serves /health, /v1/models,
/v1/chat/completions (streaming or not) and /metrics. With --api-key (or
VLLM_API_KEY, as vLLM reads it) the /v1 routes answer 401 without the right
Bearer token. It fails the way vLLM fails: when the KV cache cannot hold one
max-length request, when nothing is left for the cache, or when the weights do
not fit (forced with --fail). Unknown vLLM flags are accepted and logged, so a
real compose file's command line runs unchanged. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vtui.core.fit import DEFAULT_UTILIZATION
from vtui.sim import catalogue
from vtui.sim.metrics import ServerMetrics
from vtui.sim.replies import (
    context_error,
    is_reasoning_model,
    prompt_pieces,
    reply_for,
    stream_deltas,
)
from vtui.sim.vllm_script import (
    FAILURES,
    LogStep,
    SimServerConfig,
    format_line,
    plan_memory,
    render,
    shutdown_lines,
    startup_steps,
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python3 -m vtui.sim.vllm_server",
        description="Serve vLLM's OpenAI-compatible API from a simulator (no GPU needed).",
    )
    p.add_argument("--model", help="model id or path; or give it first, as `vllm serve MODEL`")
    p.add_argument("--served-model-name", nargs="+", help="name(s) the API answers to")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--api-key", default=None, help="default: $VLLM_API_KEY")
    p.add_argument("--max-model-len", type=int, default=None)
    p.add_argument("--gpu-memory-utilization", type=float, default=DEFAULT_UTILIZATION)
    p.add_argument("--tensor-parallel-size", "-tp", type=int, default=1)
    p.add_argument("--pipeline-parallel-size", "-pp", type=int, default=1)
    p.add_argument("--distributed-executor-backend", default=None)
    p.add_argument(
        "--sim-ray-wait",
        type=float,
        default=float(os.environ.get("VTUI_SIM_RAY_WAIT", "1800")),
        help="seconds to wait for the Ray cluster's GPUs (vLLM's PG_WAIT_TIMEOUT: 1800)",
    )
    p.add_argument(
        "--max-num-seqs",
        type=int,
        default=None,
        help="as vLLM's: requests served at once; the rest wait (default 256)",
    )
    p.add_argument(
        "--sim-gpu-memory-gib",
        type=float,
        default=79.19,
        help="memory of the simulated card, as torch reports it",
    )
    p.add_argument(
        "--sim-startup-seconds",
        type=float,
        default=1.0,
        help="how long the start-up log takes to play out",
    )
    p.add_argument(
        "--sim-host-memory-mib",
        type=int,
        default=0,
        help="hold this much host memory while the weights load, as vLLM reads them through "
        "RAM (a container memory limit below it gets the server OOM-killed there)",
    )
    p.add_argument(
        "--sim-token-delay", type=float, default=0.02, help="seconds between streamed chunks"
    )
    p.add_argument(
        "--reasoning-parser",
        default=None,
        help="as vLLM's: a reasoning model's thought streams in delta.reasoning; without it, "
        "between <think> tags in the content",
    )
    p.add_argument(
        "--sim-think-in-template",
        action="store_true",
        help="the chat template opens <think> in the prompt (as DeepSeek-R1's does): without "
        "a reasoning parser only </think> streams",
    )
    p.add_argument(
        "--sim-reply-tokens",
        type=int,
        default=None,
        help="make every answer this many pieces long (Markdown with a code block)",
    )
    p.add_argument(
        "--sim-fault",
        default=None,
        metavar="KIND:N",
        help="break every streamed reply after N pieces: cut (close the connection), "
        "malformed (send a chunk that is not JSON), error (send an error event)",
    )
    p.add_argument(
        "--fail",
        choices=FAILURES,
        default=None,
        help="fail start-up the way vLLM does, whatever the arithmetic says",
    )
    return p


class SimState:
    def __init__(
        self,
        config: SimServerConfig,
        api_key: str | None,
        token_delay: float,
        kv_tokens: int,
        *,
        reasoning_parser: str | None = None,
        think_in_template: bool = False,
        reply_tokens: int | None = None,
        fault: tuple[str, int] | None = None,
        max_num_seqs: int = 256,
    ) -> None:
        self.config = config
        self.api_key = api_key
        self.token_delay = token_delay
        self.reasoning_parser = reasoning_parser
        self.think_in_template = think_in_template
        self.reply_tokens = reply_tokens
        self.fault = fault
        self.metrics = ServerMetrics(config.served_model_name, kv_tokens)
        # vLLM schedules at most --max-num-seqs requests at once; the rest wait.
        self.slots = threading.Semaphore(max(1, max_num_seqs))
        self.created = int(time.time())
        self.log_lock = threading.Lock()

    def log(self, text: str) -> None:
        with self.log_lock:
            print(text, flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "uvicorn"
    sys_version = ""
    state: SimState  # set on the subclass made by serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _access_log(self, status: int) -> None:
        phrase = HTTPStatus(status).phrase
        host, port = self.client_address[:2]
        self.state.log(
            f'(APIServer pid=1) INFO:     {host}:{port} - "{self.command} {self.path} '
            f'{self.request_version}" {status} {phrase}'
        )

    def _send_json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self._access_log(status)

    def _authorised(self) -> bool:
        if not self.state.api_key or not self.path.startswith("/v1"):
            return True
        if self.headers.get("Authorization", "") == f"Bearer {self.state.api_key}":
            return True
        self._send_json(401, {"error": "Unauthorized"})
        return False

    def do_GET(self) -> None:
        route = self.path.split("?", 1)[0]
        if route == "/health":
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
            self._access_log(200)
        elif route == "/metrics":
            data = self.state.metrics.render().encode()
            self.send_response(200)
            self.send_header("content-type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self._access_log(200)
        elif route == "/v1/models":
            if self._authorised():
                self._send_json(200, self._models())
        else:
            self._send_json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        route = self.path.split("?", 1)[0]
        if route != "/v1/chat/completions":
            self._send_json(404, {"detail": "Not Found"})
            return
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self._authorised():
            return
        try:
            body = json.loads(raw or b"{}")
            messages = body["messages"]
            if not isinstance(messages, list) or not messages:
                raise ValueError("messages must be a non-empty list")
        except (ValueError, KeyError, TypeError) as exc:
            self._send_json(400, _error(f"Invalid request: {exc}", "BadRequestError", 400))
            return
        model = body.get("model", self.state.config.served_model_name)
        if model != self.state.config.served_model_name:
            self._send_json(
                404, _error(f"The model `{model}` does not exist.", "NotFoundError", 404)
            )
            return
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        # vLLM's ignore_eos: the reply runs on to max_tokens, as load tests ask.
        forced = max_tokens if body.get("ignore_eos") and isinstance(max_tokens, int) else None
        reply = reply_for(
            messages,
            model,
            max_tokens,
            reasoning=is_reasoning_model(self.state.config.model),
            length=forced or self.state.reply_tokens,
        )
        too_long = context_error(reply.prompt_tokens, max_tokens, self.state.config.context_length)
        if too_long:
            self._send_json(400, _error(too_long, "BadRequestError", 400))
            return
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(model, reply, include_usage, prompt_pieces(messages))
        else:
            self._complete(model, reply, prompt_pieces(messages))

    def _models(self) -> dict[str, Any]:
        c = self.state.config
        return {
            "object": "list",
            "data": [
                {
                    "id": c.served_model_name,
                    "object": "model",
                    "created": self.state.created,
                    "owned_by": "vllm",
                    "root": c.model,
                    "parent": None,
                    "max_model_len": c.context_length,
                    "permission": [
                        {
                            "id": f"modelperm-{uuid.uuid4().hex}",
                            "object": "model_permission",
                            "created": self.state.created,
                            "allow_create_engine": False,
                            "allow_sampling": True,
                            "allow_logprobs": True,
                            "allow_search_indices": False,
                            "allow_view": True,
                            "allow_fine_tuning": False,
                            "organization": "*",
                            "group": None,
                            "is_blocking": False,
                        }
                    ],
                }
            ],
        }

    def _complete(self, model: str, reply: Any, prompt: list[str]) -> None:
        metrics = self.state.metrics
        started = time.monotonic()
        with self._place_in_batch():
            metrics.request_started(reply.prompt_tokens, prompt)
            for i, _ in enumerate(reply.chunks):
                metrics.token_generated(time.monotonic() - started if i == 0 else None, None)
            metrics.request_finished(
                reply.finish_reason,
                reply.prompt_tokens + len(reply.chunks),
                time.monotonic() - started,
            )
        self._send_json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": self._message(reply),
                        "logprobs": None,
                        "finish_reason": reply.finish_reason,
                        "stop_reason": None,
                    }
                ],
                "usage": _usage(reply),
                "prompt_logprobs": None,
            },
        )

    def _message(self, reply: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text, "tool_calls": []}
        if reply.reasoning_chunks:
            if self.state.reasoning_parser:
                message["reasoning"] = reply.reasoning
            else:
                opening = "" if self.state.think_in_template else "<think>\n"
                message["content"] = f"{opening}{reply.reasoning}\n</think>\n\n{reply.text}"
        return message

    def _stream(self, model: str, reply: Any, include_usage: bool, prompt: list[str]) -> None:
        started = time.monotonic()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self._access_log(200)
        # Headers first, as vLLM: a request that waits for a place has its response open.
        with self._place_in_batch():
            self._stream_reply(model, reply, include_usage, prompt, started)

    @contextlib.contextmanager
    def _place_in_batch(self) -> Iterator[None]:
        metrics, slots = self.state.metrics, self.state.slots
        metrics.waits(+1)
        slots.acquire()
        metrics.waits(-1)
        try:
            yield
        finally:
            slots.release()

    def _stream_reply(
        self, model: str, reply: Any, include_usage: bool, prompt: list[str], started: float
    ) -> None:
        metrics = self.state.metrics
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        metrics.request_started(reply.prompt_tokens, prompt)
        finish = reply.finish_reason
        sent = 0
        last_token = started

        def chunk(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }

        deltas = stream_deltas(
            reply, bool(self.state.reasoning_parser), self.state.think_in_template
        )
        fault = self.state.fault
        try:
            self._event(chunk({"role": "assistant", "content": ""}, None))
            for i, delta in enumerate(deltas):
                if fault is not None and i == fault[1]:
                    self._break_stream(fault[0], completion_id)
                    finish = "abort"
                    return
                if self.state.token_delay:
                    time.sleep(self.state.token_delay)
                now = time.monotonic()
                metrics.token_generated(
                    now - started if i == 0 else None, now - last_token if i else None
                )
                last_token = now
                sent += 1
                last = i == len(deltas) - 1
                self._event(chunk(delta, finish if last else None))
            if include_usage:
                self._event(
                    {
                        "id": completion_id,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": _usage(reply),
                    }
                )
            self._write_chunk(b"data: [DONE]\n\n")
            self._write_chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            finish = "abort"  # the client went away mid-stream, as when a user presses stop
            self.state.log(
                format_line(
                    LogStep(0, f"Aborted request {completion_id}.", source="async_llm.py:436"),
                    datetime.now(),
                )
            )
        finally:
            metrics.request_finished(finish, reply.prompt_tokens + sent, time.monotonic() - started)

    def _break_stream(self, kind: str, completion_id: str) -> None:
        if kind == "malformed":
            self._write_chunk(b"data: {not json\n\n")
            self._write_chunk(b"")
        elif kind == "error":
            self._event({"error": {"message": "EngineCore encountered an issue.", "code": 500}})
            self._write_chunk(b"")
        else:  # "cut": the server process dies mid-reply; no closing chunk, no [DONE]
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    def _event(self, payload: dict[str, Any]) -> None:
        self._write_chunk(f"data: {json.dumps(payload)}\n\n".encode())

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _usage(reply: Any) -> dict[str, int]:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }


def _error(message: str, kind: str, code: int) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def config_from_args(args: argparse.Namespace, extras: list[str]) -> SimServerConfig:
    model = args.model
    if not model:
        raise SystemExit("error: give the model, as `vllm serve MODEL` or --model MODEL")
    served = (args.served_model_name or [model])[0]
    profile = catalogue.find(served)
    if profile is catalogue.FALLBACK:
        profile = catalogue.find(model)
    extra = _unknown_flags(extras)
    if getattr(args, "reasoning_parser", None):
        extra["reasoning_parser"] = args.reasoning_parser
    if getattr(args, "max_num_seqs", None):
        extra["max_num_seqs"] = args.max_num_seqs
    return SimServerConfig(
        model=model,
        served_model_name=served,
        profile=profile,
        host=args.host,
        port=args.port,
        max_model_len=args.max_model_len,
        gpu_memory_utilization=args.gpu_memory_utilization,
        tensor_parallel_size=args.tensor_parallel_size,
        gpu_memory_gib=args.sim_gpu_memory_gib,
        api_key_set=bool(args.api_key),
        fail=args.fail,
        extra_args=extra,
    )


def _unknown_flags(extras: list[str]) -> dict[str, object]:
    """vLLM flags the simulator has no use for, as vLLM's "non-default args" would show them."""
    out: dict[str, object] = {}
    for i, token in enumerate(extras):
        if not token.startswith("--"):
            continue
        name, _, inline = token[2:].partition("=")
        following = extras[i + 1] if i + 1 < len(extras) else ""
        value: object = inline or (
            following if following and not following.startswith("--") else True
        )
        out[name.replace("-", "_")] = value
    return out


def _fault(text: str | None) -> tuple[str, int] | None:
    if text is None:
        return None
    kind, _, after = text.partition(":")
    if kind not in ("cut", "malformed", "error") or not after.isdigit():
        raise SystemExit(f"error: --sim-fault {text}: write cut:N, malformed:N or error:N")
    return kind, int(after)


def _touched(size: int) -> bytearray:
    """`size` bytes of memory the kernel really hands over (one write per page)."""
    block = bytearray(size)
    block[::4096] = b"\x01" * len(range(0, size, 4096))
    return block


def _ray_cluster_ready(state: SimState, args: argparse.Namespace) -> bool:
    """As vLLM's Ray executor: connect to the running cluster, then wait for a placement
    group of tensor x pipeline GPUs, logging as vLLM does, until PG_WAIT_TIMEOUT."""
    from vtui.sim.ray_node import DEFAULT_PORT, cluster, node_ip

    address = os.environ.get("RAY_ADDRESS") or f"127.0.0.1:{DEFAULT_PORT}"
    wanted = args.tensor_parallel_size * args.pipeline_parallel_size

    def stamp() -> str:
        return datetime.now().strftime("%m-%d %H:%M:%S")

    state.log(f"{stamp()},000 INFO worker.py:1636 -- Connecting to existing Ray cluster at "
              f"address: {address}...")  # fmt: skip
    bundle = [{f"node:{node_ip()}": 0.001, "GPU": 1.0}] + [{"GPU": 1.0}] * (wanted - 1)
    began, next_say = time.monotonic(), 10.0
    while True:
        try:
            gpus = sum(g for _, g in cluster(address))
        except OSError:
            gpus = 0
        if gpus >= wanted:
            state.log(f"INFO {stamp()} [ray_utils.py:350] Connected to the Ray cluster: "
                      f"{wanted} GPUs in the placement group")  # fmt: skip
            return True
        waited = time.monotonic() - began
        if waited >= args.sim_ray_wait:
            state.log(
                f"ValueError: Cannot provide a placement group of placement_group_specs="
                f"{bundle} within {args.sim_ray_wait:.0f} seconds. See `ray status` to make "
                "sure the cluster has enough resources."
            )
            return False
        if waited >= next_say:
            state.log(
                f"INFO {stamp()} [ray_utils.py:214] Waiting for creating a placement group "
                f"of specs for {int(waited)} seconds. specs={bundle}. Check `ray status` to "
                "see if you have enough resources."
            )
            next_say *= 2
        time.sleep(0.25)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:  # run as `vllm serve ...` would be (the process runtime's tests)
        argv.pop(0)
    # `vllm serve MODEL --flag value`: the model comes first. Taken off here, because argparse
    # would otherwise take the value of an unknown flag for the positional.
    model_tag = argv.pop(0) if argv and not argv[0].startswith("-") else None
    args, extras = build_parser().parse_known_args(argv)
    args.model = args.model or model_tag
    args.api_key = args.api_key or os.environ.get("VLLM_API_KEY") or None
    config = config_from_args(args, extras)
    plan = plan_memory(config)
    start = datetime.now()
    state = SimState(
        config,
        args.api_key,
        args.sim_token_delay,
        plan.kv_tokens,
        reasoning_parser=args.reasoning_parser,
        think_in_template=args.sim_think_in_template,
        reply_tokens=args.sim_reply_tokens,
        fault=_fault(args.sim_fault),
        max_num_seqs=args.max_num_seqs or 256,
    )
    if args.distributed_executor_backend == "ray" and not _ray_cluster_ready(state, args):
        return 1
    lines = render(startup_steps(config), start, args.sim_startup_seconds)
    began = time.monotonic()
    held = bytearray()
    for at, text in lines:
        time.sleep(max(0.0, at - (time.monotonic() - began)))
        state.log(text)
        if "Loading weights took" in text and args.sim_host_memory_mib:
            held = _touched(args.sim_host_memory_mib << 20)
    del held
    if plan.outcome != "ok":
        return 1

    handler = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer((config.host, config.port), handler)
    server.daemon_threads = True

    def stop(signum: int, _frame: object) -> None:
        # Python as PID 1 in a container ignores SIGTERM unless it handles it: `docker stop`
        # would then wait out its timeout and SIGKILL us.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        for text in shutdown_lines(datetime.now()):
            state.log(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
