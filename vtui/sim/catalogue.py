"""A dozen real Hub models with their real shapes, for the demo and the simulator.

Sizes are the safetensors totals as published; the layer and KV-head counts come
from each model's config.json, so the simulator's KV-cache arithmetic is the
same one vLLM does for that model.
"""

from __future__ import annotations

from dataclasses import dataclass

from vtui.core.kv_cache import KvLayout, bytes_per_token

GB = 1000**3


@dataclass(frozen=True)
class SimModel:
    repo_id: str
    architecture: str
    params_billions: float
    size_bytes: int
    max_context: int
    num_layers: int
    num_kv_heads: int
    head_dim: int
    shards: int
    downloads: int
    likes: int
    pipeline_tag: str = "text-generation"
    quant: str | None = None  # as vtui names it from the Hub's tags: AWQ, FP8, GGUF, ...
    gated: str | None = None
    license: str = "apache-2.0"
    updated: str = "2025-07-26"

    @property
    def tags(self) -> tuple[str, ...]:
        """The Hub's tags that vtui reads: format, quantization and licence."""
        formats = ("gguf",) if self.quant == "GGUF" else ("safetensors",)
        quant = {"AWQ": ("awq", "4-bit"), "FP8": ("compressed-tensors", "fp8"),
                 "bnb": ("bitsandbytes", "4-bit"), "mxfp4": ("mxfp4",)}  # fmt: skip
        return (*formats, *quant.get(self.quant or "", ()), f"license:{self.license}")

    @property
    def kv_layout(self) -> KvLayout:
        return KvLayout(layers=self.num_layers, kv_heads=self.num_kv_heads, head_dim=self.head_dim)

    @property
    def kv_bytes_per_token(self) -> int:
        """On one GPU, bf16, no parallelism."""
        return bytes_per_token(self.kv_layout)


CATALOGUE: tuple[SimModel, ...] = (
    SimModel(
        "Qwen/Qwen2.5-7B-Instruct",
        "Qwen2ForCausalLM",
        7.62,
        int(15.23 * GB),
        32768,
        28,
        4,
        128,
        4,
        9_412_000,
        862,
        updated="2025-01-12",
    ),
    SimModel(
        "Qwen/Qwen3-8B",
        "Qwen3ForCausalLM",
        8.19,
        int(16.38 * GB),
        40960,
        36,
        8,
        128,
        5,
        6_981_000,
        812,
    ),
    SimModel(
        "meta-llama/Llama-3.1-8B-Instruct",
        "LlamaForCausalLM",
        8.03,
        int(16.07 * GB),
        131072,
        32,
        8,
        128,
        4,
        5_327_000,
        4_812,
        gated="manual",
        license="llama3.1",
        updated="2024-12-15",
    ),
    SimModel(
        "meta-llama/Llama-3.3-70B-Instruct",
        "LlamaForCausalLM",
        70.55,
        int(141.1 * GB),
        131072,
        80,
        8,
        128,
        30,
        1_104_000,
        2_498,
        gated="manual",
        license="llama3.3",
        updated="2024-12-21",
    ),
    SimModel(
        "mistralai/Mistral-7B-Instruct-v0.3",
        "MistralForCausalLM",
        7.25,
        int(14.5 * GB),
        32768,
        32,
        8,
        128,
        3,
        1_893_000,
        2_105,
        updated="2025-07-24",
    ),
    SimModel(
        "google/gemma-3-27b-it",
        "Gemma3ForConditionalGeneration",
        27.43,
        int(54.87 * GB),
        131072,
        62,
        16,
        128,
        12,
        1_311_000,
        1_533,
        "image-text-to-text",
        gated="manual",
        license="gemma",
        updated="2025-03-21",
    ),
    SimModel(
        "microsoft/Phi-4-mini-instruct",
        "Phi3ForCausalLM",
        3.84,
        int(7.67 * GB),
        131072,
        32,
        8,
        128,
        2,
        412_000,
        598,
        license="mit",
        updated="2025-03-10",
    ),
    SimModel(
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
        "Qwen2ForCausalLM",
        32.76,
        int(65.53 * GB),
        131072,
        64,
        8,
        128,
        8,
        1_021_000,
        1_467,
        license="mit",
        updated="2025-02-24",
    ),
    SimModel(
        "Qwen/Qwen2.5-Coder-32B-Instruct",
        "Qwen2ForCausalLM",
        32.76,
        int(65.53 * GB),
        32768,
        64,
        8,
        128,
        14,
        288_000,
        1_906,
        updated="2025-01-12",
    ),
    SimModel(
        "openai/gpt-oss-20b",
        "GptOssForCausalLM",
        21.51,
        int(13.76 * GB),
        131072,
        24,
        8,
        64,
        3,
        7_760_000,
        3_904,
        quant="mxfp4",
        updated="2025-08-26",
    ),
    SimModel(
        "openai/gpt-oss-120b",
        "GptOssForCausalLM",
        120.41,
        int(65.25 * GB),
        131072,
        36,
        8,
        64,
        15,
        3_412_000,
        4_120,
        quant="mxfp4",
        updated="2025-08-26",
    ),
    SimModel(
        "Qwen/Qwen3-30B-A3B",
        "Qwen3MoeForCausalLM",
        30.53,
        int(61.07 * GB),
        40960,
        48,
        4,
        128,
        16,
        912_000,
        789,
    ),
)

# Quantized variants, so the quantization filters have something to find.
QUANTIZED: tuple[SimModel, ...] = (
    SimModel("Qwen/Qwen3-8B-AWQ", "Qwen3ForCausalLM", 8.19, int(6.14 * GB), 40960, 36, 8, 128,
             2, 512_000, 98, quant="AWQ", updated="2025-05-21"),
    SimModel("RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8", "LlamaForCausalLM", 8.03,
             int(9.08 * GB), 131072, 32, 8, 128, 2, 301_000, 41, quant="FP8",
             license="llama3.1", updated="2025-02-12"),
    SimModel("unsloth/Llama-3.1-8B-Instruct-bnb-4bit", "LlamaForCausalLM", 8.03,
             int(5.7 * GB), 131072, 32, 8, 128, 1, 210_000, 52, quant="bnb",
             license="llama3.1", updated="2025-04-18"),
    SimModel("Qwen/Qwen3-8B-GGUF", "Qwen3ForCausalLM", 8.19, int(5.03 * GB), 40960, 36, 8, 128,
             1, 198_000, 187, quant="GGUF", updated="2025-05-12"),
)  # fmt: skip
CATALOGUE = CATALOGUE + QUANTIZED

# A model the catalogue does not know still gets a plausible 7B shape.
FALLBACK = SimModel("unknown", "LlamaForCausalLM", 7.0, int(14.0 * GB), 32768, 32, 8, 128, 3, 0, 0)


def find(repo_id: str) -> SimModel:
    for model in CATALOGUE:
        if model.repo_id == repo_id:
            return model
    return FALLBACK
