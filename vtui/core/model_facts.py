"""What a model's config.json says that the launch checks use: a record on its own, so
that reading a config does not load the vLLM argument catalogue (start-up pays for it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelFacts:
    """What the model's config.json says, where vtui has it."""

    num_attention_heads: int | None = None
    max_position_embeddings: int | None = None
    rope_scaling: bool = False
