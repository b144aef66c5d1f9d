"""A model's shape as the fit check needs it, read from config.json and its tensor sizes.

Weights come from the checkpoint's own tensor sizes (safetensors headers, or the Hub's
safetensors metadata) when vtui has them: quantized checkpoints then count exactly, as
packed integers plus scales. Without them the parameters are counted from config.json
and the bytes per parameter from quantization_config, and the result says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vtui.core.kv_cache import KvLayout, UnknownLayout, layout
from vtui.core.numbers import whole_number

# safetensors dtype names -> bytes per element
SAFETENSORS_BYTES = {
    "F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2,
    "I16": 2, "U16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1, "I8": 1, "U8": 1,
    "BOOL": 1, "F4": 0.5, "F6_E2M3": 0.75, "F6_E3M2": 0.75,
}  # fmt: skip
TORCH_DTYPE_BYTES = {"float32": 4, "float": 4, "float16": 2, "half": 2, "bfloat16": 2}
# Rope types whose factor does not stretch the derived maximum length
# (vllm/config/model.py, _get_and_verify_max_len, in vLLM 0.33.0).
_ROPE_KEEPS_LENGTH = {"su", "longrope", "llama3", "yarn", "deepseek_yarn", "deepseek_llama_scaling"}
# Length keys vLLM reads, smallest wins (transformers_utils/model_arch_config_convertor.py).
_LENGTH_KEYS = (
    "max_position_embeddings", "n_positions", "max_seq_len", "seq_length",
    "model_max_length", "max_target_positions", "max_sequence_length", "max_seq_length",
    "seq_len",
)  # fmt: skip


# Families whose config.json leaves tie_word_embeddings out because transformers ties them.
_TIED_BY_DEFAULT = {"gemma", "gemma2", "gemma3", "gemma3_text"}


class UnknownModel(ValueError):
    """config.json does not describe a model the estimate can count; says which field."""


@dataclass(frozen=True)
class Quantization:
    method: str | None  # awq, gptq, fp8, compressed-tensors, bitsandbytes, ...; None: none
    bits: float | None  # weight bits for the linear layers, where the config says


@dataclass(frozen=True)
class ModelShape:
    architecture: str
    layers: int
    hidden: int
    intermediate: int  # the MLP width one token passes through per layer (MoE: active)
    vocab: int
    tied_embeddings: bool
    kv: KvLayout | None  # None when the attention layout is not modelled
    kv_unknown_reason: str | None
    max_len: int | None
    dtype: str  # the checkpoint's torch_dtype
    quantization: Quantization
    parameters: int  # counted from config.json
    attention_heads: int | None = None  # query heads: a tensor-parallel size must divide them
    experts: int = 0  # routed experts of a mixture-of-experts model; 0 for a dense one

    @property
    def embedding_parameters(self) -> int:
        """The input embedding and, unless tied to it, the LM head."""
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)


def _text_config(config: Mapping[str, Any]) -> Mapping[str, Any]:
    text = config.get("text_config")
    return text if isinstance(text, Mapping) else config


def _positive(source: Mapping[str, Any], name: str) -> int:
    value = source.get(name)
    if not whole_number(value) or value <= 0:
        raise UnknownModel(f"config.json has no usable {name}")
    return value


def max_model_len(config: Mapping[str, Any]) -> int | None:
    """The model's own maximum length, derived as vLLM derives it."""
    source = _text_config(config)
    found = [source[k] for k in _LENGTH_KEYS if isinstance(source.get(k), int | float)]
    if not found:
        return None
    length = float(min(found))
    if isinstance(source.get("model_max_length"), int | float):
        length = float(source["model_max_length"])
    rope = source.get("rope_scaling") or source.get("rope_parameters")
    model_type = str(config.get("model_type", ""))
    if isinstance(rope, Mapping) and "gemma3" not in model_type:
        kind = rope.get("rope_type") or rope.get("type")
        factor = rope.get("factor")
        if kind not in _ROPE_KEEPS_LENGTH and isinstance(factor, int | float) and factor > 0:
            length *= factor
    return int(length)


def quantization(config: Mapping[str, Any]) -> Quantization:
    qc = config.get("quantization_config")
    if not isinstance(qc, Mapping):
        return Quantization(None, None)
    method = str(qc.get("quant_method") or qc.get("quant_type") or "unknown").lower()
    bits: float | None = None
    if isinstance(qc.get("bits"), int | float):
        bits = float(qc["bits"])
    elif method in ("fp8", "fbgemm_fp8"):
        bits = 8.0
    elif method == "bitsandbytes":
        bits = 4.0 if qc.get("load_in_4bit") else 8.0
    elif method == "mxfp4":
        bits = 4.25  # 4-bit values plus one 8-bit scale per 32
    elif method == "compressed-tensors":
        bits = _compressed_tensors_bits(qc)
    return Quantization(method, bits)


def _compressed_tensors_bits(qc: Mapping[str, Any]) -> float | None:
    groups = qc.get("config_groups")
    if not isinstance(groups, Mapping):
        return None
    for group in groups.values():
        weights = group.get("weights") if isinstance(group, Mapping) else None
        if isinstance(weights, Mapping) and isinstance(weights.get("num_bits"), int):
            return float(weights["num_bits"])
    return None


def shape(config: Mapping[str, Any]) -> ModelShape:
    """Raises UnknownModel naming the field when config.json is not a transformer LM."""
    source = _text_config(config)
    architectures = config.get("architectures") or source.get("architectures") or []
    architecture = str(architectures[0]) if architectures else str(config.get("model_type", "?"))
    layers = _positive(source, "num_hidden_layers")
    hidden = _positive(source, "hidden_size")
    vocab = _positive(source, "vocab_size")
    heads = _positive(source, "num_attention_heads")
    experts = _int(source, "num_local_experts", "num_experts", "n_routed_experts")
    per_token = _int(source, "num_experts_per_tok", "moe_topk", "num_experts_per_token")
    dense_width = _int(source, "intermediate_size", "ffn_dim", "n_inner") or 4 * hidden
    expert_width = _int(source, "moe_intermediate_size", "expert_intermediate_size")
    if experts and per_token:
        expert_width = expert_width or dense_width
        active_width = per_token * expert_width + _shared_width(source, expert_width)
    else:
        active_width = dense_width
    try:
        kv: KvLayout | None = layout(dict(config))
        reason = None
    except UnknownLayout as err:
        kv, reason = None, str(err)
    head_dim = int(source.get("head_dim") or hidden // heads)
    kv_heads = int(source.get("num_key_value_heads") or heads)
    attention = _mla_attention(source, hidden, heads) or hidden * head_dim * (
        2 * heads + 2 * kv_heads
    )
    if experts and per_token:
        mlp = 3 * hidden * (experts * expert_width + _shared_width(source, expert_width))
        mlp += hidden * experts  # the router
        # DeepSeek's first_k_dense_replace layers have a plain MLP, not experts.
        dense_layers = min(layers, _int(source, "first_k_dense_replace"))
        mlp_total = (layers - dense_layers) * mlp + dense_layers * 3 * hidden * dense_width
    else:
        mlp = 3 * hidden * dense_width
        mlp_total = layers * mlp
    model_type = str(source.get("model_type") or config.get("model_type") or "")
    tied_default = model_type in _TIED_BY_DEFAULT
    tied = bool(config.get("tie_word_embeddings", source.get("tie_word_embeddings", tied_default)))
    embeddings = vocab * hidden * (1 if tied else 2)
    return ModelShape(
        architecture=architecture,
        layers=layers,
        hidden=hidden,
        intermediate=active_width,
        vocab=vocab,
        tied_embeddings=tied,
        kv=kv,
        kv_unknown_reason=reason,
        max_len=max_model_len(config),
        attention_heads=heads,
        experts=experts if experts and per_token else 0,
        dtype=str(
            config.get("torch_dtype")
            or source.get("torch_dtype")
            or config.get("dtype")
            or "bfloat16"
        ),
        quantization=quantization(config),
        parameters=embeddings + layers * attention + mlp_total + _vision_parameters(config, hidden),
    )


def _vision_parameters(config: Mapping[str, Any], text_hidden: int) -> int:
    """A ViT-style vision tower (Gemma 3's SigLIP, Llava's CLIP) and its projection into
    the text model, counted from vision_config; 0 when there is none."""
    vision = config.get("vision_config")
    if not isinstance(vision, Mapping):
        return 0
    width = _int(vision, "hidden_size", "embed_dim")
    depth = _int(vision, "num_hidden_layers", "depth")
    mlp = _int(vision, "intermediate_size") or 4 * width
    return depth * (4 * width * width + 2 * width * mlp) + width * text_hidden


def _int(source: Mapping[str, Any], *names: str) -> int:
    for name in names:
        value = source.get(name)
        if whole_number(value) and value > 0:
            return value
    return 0


def _mla_attention(source: Mapping[str, Any], hidden: int, heads: int) -> int:
    """Multi-head latent attention's projections (DeepSeek V2/V3): queries, directly or
    through q_lora_rank; keys and values through the kv_lora_rank latent; the output.
    0 for other attention."""
    latent = _int(source, "kv_lora_rank")
    if not latent:
        return 0
    rope, nope = _int(source, "qk_rope_head_dim"), _int(source, "qk_nope_head_dim")
    value = _int(source, "v_head_dim") or nope
    q_rank = _int(source, "q_lora_rank")
    query = heads * (nope + rope)
    queries = q_rank * (hidden + query) if q_rank else hidden * query
    keys_values = hidden * (latent + rope) + latent * heads * (nope + value)
    return queries + keys_values + heads * value * hidden


def _shared_width(source: Mapping[str, Any], expert_width: int) -> int:
    return _int(source, "shared_expert_intermediate_size") or (
        _int(source, "n_shared_experts") * expert_width
    )


def checkpoint_bytes(dtype_parameters: Mapping[str, int]) -> int:
    """Bytes of the checkpoint's tensors, from parameter counts per safetensors dtype."""
    return int(sum(n * SAFETENSORS_BYTES.get(d.upper(), 2) for d, n in dtype_parameters.items()))


def serving_dtype_bytes(model: ModelShape, dtype: str = "auto") -> int:
    """Bytes per element of activations and unquantized weights as vLLM runs the model:
    'auto' keeps the checkpoint's half precision and turns float32 into bfloat16."""
    if dtype != "auto":
        return TORCH_DTYPE_BYTES.get(dtype, 2)
    return (
        2 if TORCH_DTYPE_BYTES.get(model.dtype, 2) == 4 else TORCH_DTYPE_BYTES.get(model.dtype, 2)
    )


def estimated_weight_bytes(
    model: ModelShape,
    *,
    dtype_parameters: Mapping[str, int] | None = None,
    dtype: str = "auto",
    runtime_quantization: str | None = None,
) -> tuple[int, bool]:
    """All weights in GPU memory (before sharding), and whether they were measured
    (tensor sizes known) rather than counted from config.json."""
    element = serving_dtype_bytes(model, dtype)
    embeddings = model.embedding_parameters * element
    quant = model.quantization
    if dtype_parameters:
        total = checkpoint_bytes(dtype_parameters)
        unquantized = quant.method is None
        if unquantized:
            # vLLM casts the checkpoint to the serving dtype (float32 files load as bf16).
            total = int(sum(dtype_parameters.values()) * element)
        measured = True
    else:
        body = max(0, model.parameters - model.embedding_parameters)
        bits = quant.bits if quant.method else element * 8
        # Group-wise scales and zeros add about 3% to 4-bit weights (group size 128).
        overhead = 1.03 if quant.method and (bits or 16) < 8 else 1.0
        total = embeddings + int(body * (bits or 16) / 8 * overhead)
        measured = False
    if runtime_quantization and quant.method is None:
        body = max(0, total - embeddings)
        bits = {"fp8": 8, "bitsandbytes": 4.25, "int8": 8}.get(runtime_quantization)
        if bits is not None:
            total = embeddings + int(body * bits / (element * 8))
    return total, measured


def per_gpu_weight_bytes(
    model: ModelShape, total: int, *, tensor_parallel: int = 1, pipeline_parallel: int = 1
) -> int:
    """The largest share one GPU holds: tensor parallelism splits every layer (and the
    vocabulary-parallel embedding); pipeline stages take whole layers, the first the
    embedding and the last the LM head."""
    tp, pp = max(1, tensor_parallel), max(1, pipeline_parallel)
    if pp == 1:
        return math.ceil(total / tp)
    element = serving_dtype_bytes(model)
    embed = model.vocab * model.hidden * element
    head = 0 if model.tied_embeddings else embed
    per_layer = max(0, total - embed - head) / model.layers
    stage = math.ceil(model.layers / pp) * per_layer
    return math.ceil((stage + max(embed, head)) / tp)
