"""KV-cache bytes per token, per GPU, as vLLM lays the cache out for a model's config.json.

Follows vLLM 0.33.0's attention specs (vllm/v1/kv_cache_interface.py): full attention
stores K and V for each KV head on each layer; tensor parallelism splits the KV heads
across ranks, replicating them when there are fewer heads than ranks; pipeline
parallelism splits the layers. MLA models (DeepSeek V2/V3) store one compressed latent
of kv_lora_rank + qk_rope_head_dim per layer, the same on every tensor-parallel rank.
Layers are sorted as vLLM's models sort them, from config.json's layer_types (as
transformers fills it in for Gemma 2/3, gpt-oss and Qwen3-Next) or Nemotron-H's
hybrid_override_pattern: full attention, sliding-window attention, and state layers
(Mamba, linear attention) whose per-request state is sized in kv_state.py. How those
kinds share one block pool is kv_plan.py's job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from vtui.core.kv_state import RecurrentState, recurrent_state, required_int
from vtui.core.kv_state import UnknownLayout as UnknownLayout  # raised here too

GIB = 1024**3
BLOCK_SIZE = 16  # vLLM's default block size for CUDA attention backends
_DTYPE_BYTES = {"auto": None, "bfloat16": 2, "float16": 2, "half": 2, "float": 4, "float32": 4}


# layer_types spellings, by what the layer keeps per request
_FULL = {"full_attention", "attention", "global_attention", "global"}
_SLIDING = {"sliding_attention", "local_attention", "sliding_window", "local"}
_STATE = {"linear_attention", "mamba", "mamba2", "gated_deltanet"}
_NO_CACHE = {"mlp", "moe", "-", "E"}
# Where config.json has no layer_types, transformers fills them in: every n-th layer full,
# the others sliding (Gemma 2 alternates, Gemma 3 defaults to five sliding to one full).
_DEFAULT_WINDOW_PATTERN = {"gemma2": 2, "gemma3": 6, "gemma3_text": 6}


@dataclass(frozen=True)
class KvLayout:
    layers: int  # attention layers: full plus sliding-window
    kv_heads: int
    head_dim: int
    mla_latent: int | None = None  # kv_lora_rank + qk_rope_head_dim, for MLA models
    sliding_layers: int = 0  # of `layers`, those that keep only the last sliding_window
    sliding_window: int = 0
    state_layers: int = 0  # Mamba / linear-attention layers: a fixed state per request
    state: RecurrentState | None = None

    @property
    def full_layers(self) -> int:
        return self.layers - self.sliding_layers

    @property
    def hybrid(self) -> bool:
        return bool(self.sliding_layers or self.state_layers)


def _layer_kinds(source: dict[str, Any], layers: int, model_type: str) -> tuple[int, int, int]:
    """(full, sliding, state) layer counts, as vLLM's model code assigns them."""
    kinds = source.get("layer_types") or source.get("layers_block_type")
    pattern = source.get("hybrid_override_pattern")
    every = source.get("sliding_window_pattern") or _DEFAULT_WINDOW_PATTERN.get(model_type)
    if isinstance(kinds, list) and kinds:
        names = [str(kind) for kind in kinds]
    elif isinstance(pattern, str) and pattern:  # Nemotron-H: M mamba, * attention
        names = ["mamba" if c == "M" else "attention" if c == "*" else "mlp" for c in pattern]
    elif isinstance(interval := source.get("full_attention_interval"), int) and interval > 0:
        names = ["full_attention" if (i + 1) % interval == 0 else "linear_attention"
                 for i in range(layers)]  # fmt: skip
    elif isinstance(every, int) and every > 1 and source.get("sliding_window"):
        names = ["full_attention" if (i + 1) % every == 0 else "sliding_attention"
                 for i in range(layers)]  # fmt: skip
    else:
        return layers, 0, 0
    unknown = sorted(set(names) - _FULL - _SLIDING - _STATE - _NO_CACHE)
    if unknown:
        raise UnknownLayout(f"layer type {unknown[0]!r} is not modelled yet")
    full = sum(name in _FULL for name in names)
    sliding = sum(name in _SLIDING for name in names)
    state = sum(name in _STATE for name in names)
    if sliding and not source.get("sliding_window"):
        raise UnknownLayout("config.json has sliding layers but no usable sliding_window")
    return full, sliding, state


def layout(config: dict[str, Any]) -> KvLayout:
    text = config.get("text_config")
    source = text if isinstance(text, dict) else config
    layers = required_int(source, "num_hidden_layers")
    model_type = str(source.get("model_type") or config.get("model_type") or "")
    full, sliding, state_layers = _layer_kinds(source, layers, model_type)
    state = recurrent_state(source) if state_layers else None
    if source.get("kv_lora_rank"):
        if sliding or state_layers:
            raise UnknownLayout("MLA mixed with other layer kinds is not modelled yet")
        latent = required_int(source, "kv_lora_rank") + required_int(source, "qk_rope_head_dim")
        return KvLayout(layers=layers, kv_heads=1, head_dim=latent, mla_latent=latent)
    if source.get("global_head_dim") or source.get("num_global_key_value_heads"):
        raise UnknownLayout("layers with different head sizes are not modelled yet")
    heads = required_int(source, "num_attention_heads")
    kv_heads = source.get("num_key_value_heads") or heads
    head_dim = source.get("head_dim") or required_int(source, "hidden_size") // heads
    return KvLayout(
        layers=full + sliding,
        kv_heads=int(kv_heads),
        head_dim=int(head_dim),
        sliding_layers=sliding,
        sliding_window=int(source.get("sliding_window") or 0) if sliding else 0,
        state_layers=state_layers,
        state=state,
    )


def describe(kv: KvLayout) -> str:
    """The layer kinds in a sentence, for hybrid models whose token count needs one."""
    parts = [f"{kv.full_layers} full-attention"]
    if kv.sliding_layers:
        parts.append(f"{kv.sliding_layers} sliding-window ({kv.sliding_window:,} tokens)")
    if kv.state_layers and kv.state is not None:
        parts.append(f"{kv.state_layers} {kv.state.kind.value} state")
    return " + ".join(parts) + " layers"


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


def layer_bytes_per_token(kv: KvLayout, *, tensor_parallel: int = 1, dtype_bytes: int = 2) -> int:
    """KV bytes one token takes in one attention layer on one GPU."""
    if kv.mla_latent is not None:
        return kv.mla_latent * dtype_bytes
    heads_per_rank = max(1, kv.kv_heads // max(1, tensor_parallel))
    return 2 * heads_per_rank * kv.head_dim * dtype_bytes


def bytes_per_token(
    kv: KvLayout, *, tensor_parallel: int = 1, pipeline_parallel: int = 1, dtype_bytes: int = 2
) -> int:
    """KV bytes each further token of context takes on one GPU (the most loaded pipeline
    stage): full-attention layers only, as sliding and state layers stop growing."""
    layers = math.ceil(kv.full_layers / max(1, pipeline_parallel))
    one_layer = layer_bytes_per_token(kv, tensor_parallel=tensor_parallel, dtype_bytes=dtype_bytes)
    return layers * one_layer


def tokens_in(available_bytes: float, per_token: int) -> int:
    """Tokens the cache holds: whole blocks of BLOCK_SIZE tokens."""
    if available_bytes <= 0:
        return 0
    return int(available_bytes // (per_token * BLOCK_SIZE)) * BLOCK_SIZE
