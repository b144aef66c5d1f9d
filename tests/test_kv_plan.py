"""Hybrid KV-cache layouts (sliding window, Mamba, linear attention) against what vLLM
printed for real models, and the long-context saving a user of Gemma 3 expects."""

from __future__ import annotations

from typing import Any

import pytest

from vtui.core.fit import FitRequest, Verdict, estimate
from vtui.core.kv_cache import GIB, UnknownLayout, kv_dtype_bytes, layout
from vtui.core.kv_plan import plan
from vtui.core.kv_state import recurrent_state
from vtui.core.model_shape import shape

# Qwen3.5-27B's text layout (64 layers, every 4th full attention, Gated DeltaNet between),
# as served in https://github.com/mitchross/talos-argocd-proxmox/pull/1995 (vLLM 0.28,
# two RTX 3090s, TP 2, fp8 KV cache, prefix caching on).
QWEN35_27B: dict[str, Any] = {
    "num_hidden_layers": 64, "hidden_size": 5120, "num_attention_heads": 24,
    "num_key_value_heads": 4, "head_dim": 256, "full_attention_interval": 4,
    "linear_num_key_heads": 16, "linear_num_value_heads": 48, "linear_key_head_dim": 128,
    "linear_value_head_dim": 128, "linear_conv_kernel_dim": 4, "mamba_ssm_dtype": "float32",
}  # fmt: skip

GEMMA3_12B: dict[str, Any] = {
    "architectures": ["Gemma3ForConditionalGeneration"],
    "model_type": "gemma3",
    "text_config": {
        "num_hidden_layers": 48, "hidden_size": 3840, "intermediate_size": 15360,
        "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 256,
        "vocab_size": 262208, "max_position_embeddings": 131072, "sliding_window": 1024,
        "layer_types": (["sliding_attention"] * 5 + ["full_attention"]) * 8,
    },
    "torch_dtype": "bfloat16",
}  # fmt: skip
H100 = int(79.19 * GIB)


def test_gated_deltanet_hybrid_matches_the_block_size_and_tokens_vllm_logged() -> None:
    """The PR quotes "GPU KV cache size: 302,921 tokens", "Maximum concurrency for 131,072
    tokens per request: 2.31x", a 1568-token block and a 4.99 GiB pool per GPU."""
    kv = layout(QWEN35_27B)
    assert (kv.full_layers, kv.state_layers) == (16, 48)
    pool = plan(kv, tensor_parallel=2, dtype_bytes=kv_dtype_bytes("fp8"))
    assert pool.block_tokens == 1568
    assert pool.reported_tokens(4.99 * GIB, 131072, in_flight_tokens=16384) == pytest.approx(
        302_921, rel=0.002
    )
    assert pool.concurrency(4.99 * GIB, 131072, 16384) == pytest.approx(2.31, abs=0.005)


def test_mamba2_state_size_gives_the_block_size_vllm_chose_for_nemotron_nano() -> None:
    """vllm-project/vllm#24280: NVIDIA-Nemotron-Nano-9B-v2 got 672-token attention pages
    (then the recurrent state was kept in bfloat16; vLLM 0.33 keeps float32 by default)."""
    nano = {
        "num_hidden_layers": 56, "hidden_size": 4480, "num_attention_heads": 40,
        "num_key_value_heads": 8, "head_dim": 128, "mamba_num_heads": 128,
        "mamba_head_dim": 80, "n_groups": 8, "ssm_state_size": 128, "conv_kernel": 4,
        "hybrid_override_pattern": "M-M-M-MM-M-M-M*-M-M-M*-M-M-M-M*-M-M-M-M*-M-MM-M-M-M-M-M-",
    }  # fmt: skip
    kv = layout({**nano, "mamba_ssm_cache_dtype": "bfloat16"})
    assert (kv.full_layers, kv.state_layers) == (4, 27)
    assert plan(kv).block_tokens == 672
    assert plan(layout(nano)).block_tokens == 1312  # float32 state: twice the page


def test_prefix_caching_makes_state_layers_keep_more_blocks_per_request() -> None:
    kv = layout(QWEN35_27B)
    cached = plan(kv, tensor_parallel=2, prefix_caching=True)
    plain = plan(kv, tensor_parallel=2, prefix_caching=False)
    assert cached.blocks_per_request(4096, 16384) > plain.blocks_per_request(4096, 16384)


def test_gemma3_long_context_costs_far_less_than_full_attention_would() -> None:
    """Five in six Gemma 3 layers keep a 1024-token window: at 128k the KV cache holds
    several times the requests a same-sized full-attention model would."""
    request = FitRequest(gpu_total_bytes=H100, utilization=0.95, max_model_len=131072)
    windowed = estimate(shape(GEMMA3_12B), request)
    everything_full = dict(GEMMA3_12B["text_config"], layer_types=None, sliding_window=None)
    full = estimate(shape({**GEMMA3_12B, "text_config": everything_full}), request)
    assert windowed.fits and windowed.max_concurrency and full.max_concurrency is not None
    assert windowed.max_concurrency > 3 * full.max_concurrency
    assert windowed.kv_bytes_per_token == full.kv_bytes_per_token // 6  # full layers only


def test_sliding_layers_need_the_window_plus_tokens_in_flight_not_the_context() -> None:
    pool = plan(layout(GEMMA3_12B))
    assert (pool.full_groups, pool.sliding_groups) == (1, 5)  # 8 full layers, 40 sliding
    # Past the window plus the tokens in flight, only the full-attention group grows.
    grown = pool.blocks_per_request(131072, 16384) - pool.blocks_per_request(65536, 16384)
    assert grown == (131072 - 65536) // pool.block_tokens
    # Below it, a sliding layer holds the whole request, plus the block the window straddles.
    assert pool.blocks_per_request(4096, 16384) == 6 * 4096 // 16 + 5


def test_a_too_long_context_on_a_hybrid_model_suggests_a_length_that_fits() -> None:
    request = FitRequest(gpu_total_bytes=32 * GIB, max_model_len=131072)
    fit = estimate(shape(GEMMA3_12B), request)
    assert fit.verdict is Verdict.CONTEXT_TOO_LONG
    shorter = fit.fixes[0].value
    assert isinstance(shorter, int) and shorter < 131072
    again = estimate(shape(GEMMA3_12B), FitRequest(gpu_total_bytes=32 * GIB, max_model_len=shorter))
    assert again.fits


def test_layouts_not_modelled_name_what_is_missing() -> None:
    jamba = {
        "num_hidden_layers": 8, "hidden_size": 4096, "num_attention_heads": 32,
        "layers_block_type": ["mamba"] * 7 + ["attention"], "mamba_d_state": 16,
    }  # fmt: skip
    with pytest.raises(UnknownLayout, match="not modelled"):
        layout(jamba)
    with pytest.raises(UnknownLayout, match="linear_conv_kernel_dim"):
        recurrent_state({k: v for k, v in QWEN35_27B.items() if k != "linear_conv_kernel_dim"})
    with pytest.raises(UnknownLayout, match="sliding_window"):
        layout({**QWEN35_27B, "layer_types": ["sliding_attention", "full_attention"] * 32})
