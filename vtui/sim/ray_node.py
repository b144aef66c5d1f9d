"""`ray` as the simulator image has it: enough of Ray's command line for vLLM's multi-node
recipes (run_cluster.sh, a LeaderWorkerSet) to run unchanged against the simulator.

  ray start --head [--port=6379] [--num-gpus=N] [--block]
  ray start --address=HEAD:PORT [--num-gpus=N] [--block]
  ray status [--address=HEAD:PORT]

The head keeps the cluster in a small TCP service on its port: each worker holds one
connection open for as long as it lives ("JOIN ip gpus"), and `ray status` or the
simulated `vllm serve` ask it ("STATUS") what has joined. Lines are printed as Ray prints
them, so vtui reads a simulated cluster's log as it reads a real one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

DEFAULT_PORT = 6379
JOIN_WAIT_S = 60.0  # a worker retries the head this long, as `ray start` does
DEFAULT_GPUS = int(os.environ.get("VTUI_SIM_GPUS", "8"))


def node_ip() -> str:
    return os.environ.get("VLLM_HOST_IP") or socket.gethostbyname(socket.gethostname())


def _say(*lines: str) -> None:
    for line in lines:
        print(line, flush=True)


class Head:
    def __init__(self, port: int, gpus: int) -> None:
        self.nodes: dict[int, tuple[str, int]] = {0: (node_ip(), gpus)}
        self.lock = threading.Lock()
        self.server = socket.create_server(("0.0.0.0", port), reuse_port=False)
        self.port = port

    def serve(self) -> None:
        count = 0
        while True:
            conn, _ = self.server.accept()
            count += 1
            threading.Thread(target=self._talk, args=(conn, count), daemon=True).start()

    def _talk(self, conn: socket.socket, key: int) -> None:
        with conn:
            stream = conn.makefile("rwb")
            first = stream.readline(1024).decode("ascii", "replace").split()
            if first[:1] == ["STATUS"]:
                with self.lock:
                    nodes = list(self.nodes.values())
                stream.write(json.dumps({"nodes": nodes}).encode() + b"\n")
                stream.flush()
                return
            if first[:1] != ["JOIN"] or len(first) != 3 or not first[2].isdigit():
                return
            with self.lock:
                self.nodes[key] = (first[1], int(first[2]))
            _say(f"Node {first[1]} joined the cluster with {first[2]} GPUs.")
            stream.write(b"OK\n")
            stream.flush()
            while stream.read(1):  # held open for as long as the worker lives
                pass
            with self.lock:
                self.nodes.pop(key, None)
            _say(f"Node {first[1]} left the cluster.")


def cluster(address: str, timeout: float = 5.0) -> list[tuple[str, int]]:
    """The nodes (ip, GPUs) the head at `address` knows. Raises OSError."""
    host, _, port = address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        stream = conn.makefile("rwb")
        stream.write(b"STATUS\n")
        stream.flush()
        answer = json.loads(stream.readline(1 << 16))
    return [(str(ip), int(gpus)) for ip, gpus in answer["nodes"]]


def _started(ip: str, head: str | None) -> None:
    _say(f"Local node IP: {ip}", "", "-" * 20, "Ray runtime started.", "-" * 20, "")
    if head is None:
        _say("Next steps", "  To add another node to this Ray cluster, run",
             f"    ray start --address='{ip}:{DEFAULT_PORT}'")  # fmt: skip


def _head(port: int, gpus: int, block: bool) -> int:
    if not block:
        # `ray start --head` returns once the head runs: a detached process keeps it.
        subprocess.Popen(
            [sys.executable, "-m", "vtui.sim.ray_node", "start", "--head", f"--port={port}",
             f"--num-gpus={gpus}", "--block"],
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                cluster(f"127.0.0.1:{port}", timeout=1)
                return 0
            except OSError:
                time.sleep(0.1)
        _say(f"ConnectionError: the Ray head did not come up on port {port}")
        return 1
    head = Head(port, gpus)
    _started(node_ip(), None)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    head.serve()
    return 0


def _worker(address: str, gpus: int) -> int:
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + JOIN_WAIT_S
    while True:
        try:
            conn = socket.create_connection((host, int(port)), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                _say(
                    f"ConnectionError: ray client connection timeout: could not reach the "
                    f"GCS at {address}"
                )
                return 1
            time.sleep(0.5)
    conn.settimeout(None)
    stream = conn.makefile("rwb")
    stream.write(f"JOIN {node_ip()} {gpus}\n".encode())
    stream.flush()
    if stream.readline(64) != b"OK\n":
        _say(f"ConnectionError: the head at {address} refused this node")
        return 1
    _started(node_ip(), address)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while stream.read(1):  # until the head goes away
        pass
    _say(f"The node with node id was terminated: the GCS at {address} is gone.")
    return 1


def _status(address: str) -> int:
    try:
        nodes = cluster(address)
    except OSError as exc:
        _say(f"ConnectionError: could not find any running Ray instance at {address}: {exc}")
        return 1
    total = sum(gpus for _, gpus in nodes)
    _say("======== Autoscaler status ========", "Node status", "-" * 40, "Active:")
    _say(*(f" 1 node_{ip}" for ip, _ in nodes))
    _say("Resources", "-" * 40, "Usage:", f" 0.0/{float(total)} GPU")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ray")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start")
    start.add_argument("--head", action="store_true")
    start.add_argument("--address")
    start.add_argument("--port", type=int, default=DEFAULT_PORT)
    start.add_argument("--num-gpus", type=int, default=DEFAULT_GPUS)
    start.add_argument("--block", action="store_true")
    status = sub.add_parser("status")
    status.add_argument("--address", default=os.environ.get("RAY_ADDRESS"))
    args, _unknown = parser.parse_known_args(argv)  # Ray's many other flags change nothing here
    if args.command == "status":
        return _status(args.address or f"127.0.0.1:{DEFAULT_PORT}")
    if args.head:
        return _head(args.port, args.num_gpus, args.block)
    if not args.address:
        parser.error("give --head or --address=HEAD:PORT")
    return _worker(args.address.strip("'\""), args.num_gpus)


if __name__ == "__main__":
    sys.exit(main())
