"""How long the Launch form takes to recompute the fit after an edit (the issue: < 50 ms).

    python -m bench.fit_recompute [--runs N]

Times what LaunchScreen.refit does per keystroke (estimate from the model and GPUs already
read, then lay out the bar's text), against a baseline measured in the same run: rendering
the same spec's compose file, which the form also redoes on every edit.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from vtui.backends.gpu.simulated import simulated_gpus
from vtui.backends.hub.simulated import SimulatedHub
from vtui.core.fit_launch import estimate_launch, gpu_memory
from vtui.core.launch_spec import LaunchSpec
from vtui.core.renderings import render_compose
from vtui.sim.demo_world import DemoWorld
from vtui.ui.widgets.fit_bar import render_fit


def per_call_ms(work: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    spec = LaunchSpec(
        name="bench",
        model="meta-llama/Llama-3.3-70B-Instruct",
        args={"--tensor-parallel-size": 2, "--max-model-len": 131072},
    )
    checkpoint = SimulatedHub().checkpoint(spec.model)
    memory = gpu_memory(spec, simulated_gpus(DemoWorld(seed=7)).snapshot().gpus)
    assert memory is not None

    def refit() -> object:
        return render_fit(estimate_launch(spec, checkpoint, memory), 100)

    fit_ms = per_call_ms(refit, args.runs)
    compose_ms = per_call_ms(lambda: render_compose(spec), args.runs)
    print(f"fit recompute (estimate + bar text): {fit_ms:.3f} ms median over {args.runs} runs")
    print(f"baseline, compose rendering:         {compose_ms:.3f} ms")
    print(f"ratio fit / compose: {fit_ms / compose_ms:.2f}; budget 50 ms: {fit_ms / 50:.4f} of it")


if __name__ == "__main__":
    main()
