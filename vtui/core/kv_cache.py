"""KV-cache bytes per token, per GPU, as vLLM lays the cache out for a model's config.json.

Follows vLLM 0.33.0's attention specs (vllm/v1/kv_cache_interface.py): full attention
stores K and V for each KV head on each layer; tensor parallelism splits the KV heads
across ranks, replicating them when there are fewer heads than ranks; pipeline
parallelism splits the layers. MLA models (DeepSeek V2/V3) store one compressed latent
of kv_lora_rank + qk_rope_head_dim per layer, the same on every tensor-parallel rank.
Sliding-window and hybrid (Mamba, linear attention) layouts are not modelled yet: for
those `layout` raises, so no wrong number is shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

GIB = 1024**3
BLOCK_SIZE = 16  # vLLM's default block size for CUDA attention backends
_DTYPE_BYTES = {"auto": None, "bfloat16": 2, "float16": 2, "half": 2, "float": 4, "float32": 4}


class UnknownLayout(ValueError):
    """The config does not say enough, or describes a layout not modelled; names what."""


@dataclass(frozen=True)
class KvLayout:
    layers: int
    kv_heads: int
    head_dim: int
    mla_latent: int | None = None  # kv_lora_rank + qk_rope_head_dim, for MLA models


def _field(config: dict[str, Any], name: str) -> int:
    value = config.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise UnknownLayout(f"config.json has no usable {name}")
    return value


def layout(config: dict[str, Any]) -> KvLayout:
    text = config.get("text_config")
    source = text if isinstance(text, dict) else config
    windowed = source.get("sliding_window") and source.get("use_sliding_window") is not False
    if windowed and (source.get("layer_types") or source.get("sliding_window_pattern")):
        raise UnknownLayout("sliding-window and full layers mixed: not modelled yet")
    if any(k in source for k in ("mamba_d_state", "linear_num_value_heads", "ssm_cfg")):
        raise UnknownLayout("hybrid Mamba / linear-attention layers: not modelled yet")
    layers = _field(source, "num_hidden_layers")
    if source.get("kv_lora_rank"):
        latent = _field(source, "kv_lora_rank") + _field(source, "qk_rope_head_dim")
        return KvLayout(layers=layers, kv_heads=1, head_dim=latent, mla_latent=latent)
    heads = _field(source, "num_attention_heads")
    kv_heads = source.get("num_key_value_heads") or heads
    head_dim = source.get("head_dim") or _field(source, "hidden_size") // heads
    return KvLayout(layers=layers, kv_heads=int(kv_heads), head_dim=int(head_dim))


def kv_dtype_bytes(kv_cache_dtype: str, model_dtype: str = "bfloat16") -> int:
    """Bytes per element: 'auto' follows the model's dtype, fp8 kinds take one byte."""
    if kv_cache_dtype.startswith("fp8"):
        return 1
    size = _DTYPE_BYTES.get(kv_cache_dtype)
    if size is None and kv_cache_dtype == "auto":
        size = _DTYPE_BYTES.get(model_dtype) or 2
    if size is None:
        raise UnknownLayout(f"KV cache dtype {kv_cache_dtype!r} is not modelled")
    return size


def bytes_per_token(
    kv: KvLayout, *, tensor_parallel: int = 1, pipeline_parallel: int = 1, dtype_bytes: int = 2
) -> int:
    """KV bytes one token takes on one GPU (the most loaded pipeline stage)."""
    layers = math.ceil(kv.layers / max(1, pipeline_parallel))
    if kv.mla_latent is not None:
        return layers * kv.mla_latent * dtype_bytes
    heads_per_rank = max(1, kv.kv_heads // max(1, tensor_parallel))
    return 2 * layers * heads_per_rank * kv.head_dim * dtype_bytes


def tokens_in(available_bytes: float, per_token: int) -> int:
    """Tokens the cache holds: whole blocks of BLOCK_SIZE tokens."""
    if available_bytes <= 0:
        return 0
    return int(available_bytes // (per_token * BLOCK_SIZE)) * BLOCK_SIZE
