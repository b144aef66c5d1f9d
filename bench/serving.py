"""What the serving figures and the load test cost vtui itself.

    python -m bench.serving [--seconds S] [--concurrency N]

1. Reading /metrics: `parse_metrics` on the demo server's exposition after a minute of
   traffic, against prometheus_client's bare parser on the same text (the baseline).
2. The load test's client: how many streamed tokens a second `run_load_test` takes in from
   the simulator (no token delay, so the client is the bottleneck), against a bare httpx
   client in the same run that only counts `data:` lines on as many connections. A ratio
   near 1 means the load test measures the server, not itself.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.helpers import simulator
from vtui.backends.endpoint.http import HttpEndpoint
from vtui.core.load_runs import LoadSettings, request_body
from vtui.core.serving_metrics import parse_metrics
from vtui.services.load_runner import run_load_test
from vtui.sim.demo_world import DemoWorld

MODEL = "Qwen/Qwen2.5-7B-Instruct"


def median_ms(work: object, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bench_parse(runs: int) -> None:
    world = DemoWorld(seed=7)
    container = world.deployments()[0].container_id
    text = world.metrics_text(container, 60.0)
    ours = median_ms(lambda: parse_metrics(text, 0.0), runs)
    bare = median_ms(lambda: list(text_string_to_metric_families(text)), runs)
    lines = text.count("\n")
    print(f"/metrics of {lines} lines: parse_metrics {ours:.2f} ms, bare parser {bare:.2f} ms")
    print(
        f"  ratio {ours / bare:.2f}x the bare parser; at one reading per 2 s that is "
        f"{ours / 20:.3f}% of one core"
    )


async def bare_client(url: str, settings: LoadSettings) -> int:
    """Counts streamed chunks on `concurrency` connections for `duration` seconds."""
    deadline = time.monotonic() + settings.duration
    limits = httpx.Limits(max_connections=2 * settings.concurrency)
    chunks = 0

    async def client(n: int, http: httpx.AsyncClient) -> None:
        nonlocal chunks
        index = n
        while time.monotonic() < deadline:
            body = request_body(MODEL, settings, index)
            async with http.stream("POST", "/v1/chat/completions", json=body) as response:
                async for raw in response.aiter_raw():
                    # Chunks that arrive in time, as the load test counts them.
                    if time.monotonic() < deadline:
                        chunks += raw.count(b'"delta": {"content"')
            index += settings.concurrency

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
        await asyncio.gather(*(client(n, http) for n in range(settings.concurrency)))
    return chunks


def bench_client(seconds: float, concurrency: int) -> None:
    settings = LoadSettings(
        concurrency=concurrency, duration=seconds, prompt_tokens=64, max_tokens=256
    )
    with simulator("--model", MODEL, "--sim-token-delay", "0", keep_log=False) as sim:
        # Alternated, best of two each: the server warms up, and the machine is shared.
        bares, reports = [], []
        for _ in range(2):
            reports.append(run_load_test(HttpEndpoint(sim.url), MODEL, settings))
            bares.append(asyncio.run(bare_client(sim.url, settings)) / seconds)
    report = max(reports, key=lambda r: r.output_tps)
    ours, bare = report.output_tps, max(bares)
    print(
        f"load-test client, {concurrency} at once for {seconds:g} s against the simulator: "
        f"{ours:,.0f} tokens/s taken in; bare httpx {bare:,.0f} tokens/s"
    )
    print(f"  ratio {ours / bare:.2f} of the bare client ({report.error_count} errors)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    bench_parse(args.runs)
    bench_client(args.seconds, args.concurrency)


if __name__ == "__main__":
    main()
