"""KV bytes per token against what vLLM itself printed for real models (tests/data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vtui.core.kv_cache import (
    GIB,
    UnknownLayout,
    bytes_per_token,
    kv_dtype_bytes,
    layout,
    tokens_in,
)

ROWS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "kv_cache_rows.json").read_text()
)
# vLLM prints GiB with two decimals, so a figure read back carries up to half a hundredth.
ROUNDING = 0.005


def per_token(row: dict[str, Any]) -> int:
    return bytes_per_token(
        layout(row["config"]),
        tensor_parallel=row["tensor_parallel_size"],
        dtype_bytes=kv_dtype_bytes(row["kv_cache_dtype"]),
    )


@pytest.mark.parametrize("row", ROWS, ids=[r["source"][-12:] for r in ROWS])
def test_kv_arithmetic_matches_what_vllm_printed(row: dict[str, Any]) -> None:
    size = per_token(row)
    if "needed_gib_for" in row:
        tokens, gib = row["needed_gib_for"]
        assert tokens * size / GIB == pytest.approx(gib, abs=ROUNDING), row["quote"]
    if "tokens" in row:
        ours = tokens_in(row["available_gib"] * GIB, size)
        error = (ours - row["tokens"]) / row["tokens"]
        print(f"{row['source']}: {ours} tokens vs vLLM's {row['tokens']} ({error:+.2%})")
        assert abs(error) <= 0.02, row["quote"]


def test_kv_heads_are_split_across_ranks_and_replicated_past_them() -> None:
    kv = layout(
        {
            "num_hidden_layers": 32,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "hidden_size": 4096,
        }
    )
    assert bytes_per_token(kv) == 131072  # Llama 3.1 8B: 128 KiB a token
    assert bytes_per_token(kv, tensor_parallel=2) == 65536
    assert bytes_per_token(kv, tensor_parallel=8) == bytes_per_token(kv, tensor_parallel=16)
    assert bytes_per_token(kv, pipeline_parallel=2) == 65536
    assert bytes_per_token(kv, dtype_bytes=kv_dtype_bytes("fp8")) == 65536


def test_sliding_layers_are_sorted_as_transformers_fills_in_layer_types() -> None:
    gemma3_27b = {
        "text_config": {
            "model_type": "gemma3_text",
            "num_hidden_layers": 62,
            "num_attention_heads": 32,
            "num_key_value_heads": 16,
            "head_dim": 128,
            "sliding_window": 1024,
            "sliding_window_pattern": 6,
        }
    }
    kv = layout(gemma3_27b)
    assert (kv.full_layers, kv.sliding_layers, kv.sliding_window) == (10, 52, 1024)
    gemma2 = {"model_type": "gemma2", "num_hidden_layers": 42, "num_attention_heads": 16,
              "num_key_value_heads": 8, "head_dim": 256, "sliding_window": 4096}  # fmt: skip
    assert (layout(gemma2).full_layers, layout(gemma2).sliding_layers) == (21, 21)
    # A window in a config without layer types is not used by vLLM's Llama-style models.
    mistral = {"model_type": "mistral", "num_hidden_layers": 32, "num_attention_heads": 32,
               "num_key_value_heads": 8, "hidden_size": 4096, "sliding_window": 4096}  # fmt: skip
    assert layout(mistral).sliding_layers == 0


def test_layouts_not_modelled_are_refused_not_guessed() -> None:
    gemma4 = {"num_hidden_layers": 30, "num_attention_heads": 16, "head_dim": 256,
              "global_head_dim": 512, "sliding_window": 512,
              "layer_types": ["sliding_attention"] * 5 + ["full_attention"]}  # fmt: skip
    with pytest.raises(UnknownLayout, match="head sizes"):
        layout(gemma4)
    with pytest.raises(UnknownLayout, match="num_hidden_layers"):
        layout({"num_attention_heads": 8})
