"""The explainer against real failure logs: each rule, its fix, and the setting it offers.

Excerpts are in tests/data/vllm_failures.json, each with the public issue it comes from."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from vtui.core.log_explainer import RULES, FailureContext, explain

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "vllm_failures.json").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['rule']}-{i}" for i, c in enumerate(CASES)])
def test_each_real_failure_is_named_with_a_fix(case: dict[str, Any]) -> None:
    found = explain(case["lines"], FailureContext(**case.get("context", {})))
    assert found is not None, case["source"]
    assert found.rule == case["rule"]
    assert found.cause and found.fix and found.line in "\n".join(case["lines"])
    expected = tuple(case["setting"]) if case["setting"] else None
    assert found.setting == expected


def test_every_rule_has_a_real_excerpt() -> None:
    assert {r.name for r in RULES} <= {c["rule"] for c in CASES}


def test_the_kv_cache_fix_names_the_length_that_fits() -> None:
    found = explain(CASES[0]["lines"])
    assert found is not None and "121,856" in found.fix


def test_out_of_memory_on_one_gpu_suggests_quantization_not_more_gpus() -> None:
    lines = ["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.02 GiB."]
    found = explain(lines, FailureContext(gpu_count=1))
    assert found is not None and found.setting is None and "quantized" in found.fix


def test_the_simulators_failures_are_understood() -> None:
    from vtui.sim.catalogue import find
    from vtui.sim.vllm_script import SimServerConfig, startup_steps

    for fail, rule in (("kv-cache", "kv-cache-too-small"), ("oom", "cuda-oom"),
                       ("no-cache-blocks", "no-cache-blocks")):  # fmt: skip
        config = SimServerConfig("Qwen/Qwen3-8B", "Qwen/Qwen3-8B", find("Qwen/Qwen3-8B"), fail=fail)
        found = explain(step.message for step in startup_steps(config))
        assert found is not None and found.rule == rule, fail


def test_a_healthy_log_explains_nothing() -> None:
    lines = ["INFO:     Application startup complete.", "GPU KV cache size: 1,013,056 tokens"]
    assert explain(lines) is None


@pytest.mark.input_check("log-explainer-fuzz")
def test_random_input_never_raises() -> None:
    rng = random.Random(11)
    alphabet = "abcXYZ ()[]'\"0123456789.,:=-_/\\\n\t\x00\u00e9\u2603"
    pieces = [c["lines"][0] for c in CASES]
    for _ in range(2000):
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        if rng.random() < 0.3:  # real text cut at random points
            text = rng.choice(pieces)
            noise = text[: rng.randint(0, len(text))] + noise
        explain([noise])
