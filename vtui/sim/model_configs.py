"""The rest of each demo model's config.json: what the fit check reads beyond the KV layout.

Figures are the published config.json values of each repo; the demo's fit verdicts are
therefore the ones vtui would give for the real model on the demo's GPUs.
"""

from __future__ import annotations

from typing import Any

from vtui.sim.catalogue import SimModel

LLAMA3_ROPE = {"rope_type": "llama3", "factor": 8.0}
_WINDOWED_GPT_OSS = {
    "sliding_window": 128,
    "quantization_config": {"quant_method": "mxfp4"},
}
EXTRA: dict[str, dict[str, Any]] = {
    "Qwen/Qwen2.5-7B-Instruct": {"hidden_size": 3584, "intermediate_size": 18944,
                                 "num_attention_heads": 28, "vocab_size": 152064},
    "Qwen/Qwen3-8B": {"hidden_size": 4096, "intermediate_size": 12288,
                      "num_attention_heads": 32, "vocab_size": 151936},
    "meta-llama/Llama-3.1-8B-Instruct": {"hidden_size": 4096, "intermediate_size": 14336,
                                         "num_attention_heads": 32, "vocab_size": 128256,
                                         "rope_scaling": LLAMA3_ROPE},
    "meta-llama/Llama-3.3-70B-Instruct": {"hidden_size": 8192, "intermediate_size": 28672,
                                          "num_attention_heads": 64, "vocab_size": 128256,
                                          "rope_scaling": LLAMA3_ROPE},
    "mistralai/Mistral-7B-Instruct-v0.3": {"hidden_size": 4096, "intermediate_size": 14336,
                                           "num_attention_heads": 32, "vocab_size": 32768},
    "google/gemma-3-27b-it": {"hidden_size": 5376, "intermediate_size": 21504,
                              "num_attention_heads": 32, "vocab_size": 262208,
                              "sliding_window": 1024, "sliding_window_pattern": 6,
                              "model_type": "gemma3_text", "tie_word_embeddings": True},
    "microsoft/Phi-4-mini-instruct": {"hidden_size": 3072, "intermediate_size": 8192,
                                      "num_attention_heads": 24, "vocab_size": 200064,
                                      "tie_word_embeddings": True},
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B": {"hidden_size": 5120, "intermediate_size": 27648,
                                                 "num_attention_heads": 40, "vocab_size": 152064},
    "Qwen/Qwen2.5-Coder-32B-Instruct": {"hidden_size": 5120, "intermediate_size": 27648,
                                        "num_attention_heads": 40, "vocab_size": 152064},
    "openai/gpt-oss-20b": {"hidden_size": 2880, "intermediate_size": 2880,
                           "num_attention_heads": 64, "vocab_size": 201088,
                           "num_local_experts": 32, "num_experts_per_tok": 4,
                           "layer_types": ["sliding_attention", "full_attention"] * 12,
                           **_WINDOWED_GPT_OSS},
    "openai/gpt-oss-120b": {"hidden_size": 2880, "intermediate_size": 2880,
                            "num_attention_heads": 64, "vocab_size": 201088,
                            "num_local_experts": 128, "num_experts_per_tok": 4,
                            "layer_types": ["sliding_attention", "full_attention"] * 18,
                            **_WINDOWED_GPT_OSS},
    "Qwen/Qwen3-8B-AWQ": {"hidden_size": 4096, "intermediate_size": 12288,
                          "num_attention_heads": 32, "vocab_size": 151936, "torch_dtype": "float16",
                          "quantization_config": {"quant_method": "awq", "bits": 4,
                                                  "group_size": 128, "version": "gemm"}},
    "RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8": {
        "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
        "vocab_size": 128256, "rope_scaling": LLAMA3_ROPE,
        "quantization_config": {"quant_method": "compressed-tensors", "config_groups": {
            "group_0": {"weights": {"num_bits": 8, "type": "float"}}}}},
    "unsloth/Llama-3.1-8B-Instruct-bnb-4bit": {
        "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
        "vocab_size": 128256, "rope_scaling": LLAMA3_ROPE,
        "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": True}},
    "Qwen/Qwen3-30B-A3B": {"hidden_size": 2048, "intermediate_size": 6144,
                           "moe_intermediate_size": 768, "num_attention_heads": 32,
                           "vocab_size": 151936, "num_experts": 128, "num_experts_per_tok": 8},
}  # fmt: skip


def config_json(model: SimModel) -> dict[str, Any]:
    text: dict[str, Any] = {
        "num_hidden_layers": model.num_layers,
        "num_key_value_heads": model.num_kv_heads,
        "head_dim": model.head_dim,
        "max_position_embeddings": model.max_context,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        **EXTRA.get(model.repo_id, {"hidden_size": 4096, "intermediate_size": 14336,
                                    "num_attention_heads": 32, "vocab_size": 32000}),
    }  # fmt: skip
    if model.architecture.endswith("ForConditionalGeneration"):
        return {"architectures": [model.architecture], "text_config": text}
    return {"architectures": [model.architecture], **text}


def dtype_parameters(model: SimModel) -> dict[str, int]:
    """Parameters per safetensors dtype, as the Hub's metadata gives them: packed
    quantized weights count as the integers that hold them, not as parameters."""
    size = model.size_bytes
    if model.quant == "GGUF":
        return {}  # no safetensors, so the Hub counts nothing
    if model.quant == "AWQ":  # eight 4-bit weights an int32; scales and the rest in F16
        return {"I32": int(size * 0.7) // 4, "F16": int(size * 0.3) // 2}
    if model.quant == "FP8":
        return {"F8_E4M3": int(size * 0.84), "BF16": int(size * 0.16) // 2}
    if model.quant == "bnb":
        return {"U8": int(size * 0.7), "BF16": int(size * 0.3) // 2}
    if "quantization_config" in EXTRA.get(model.repo_id, {}):
        return {"U8": size}  # packed 4-bit experts: bytes, not parameters
    return {"BF16": size // 2}
