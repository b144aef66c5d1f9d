"""What a model's config.json says that launch checks use: heads, positions, rope scaling."""

from __future__ import annotations

from typing import Any

from vtui.core.model_facts import ModelFacts


def facts_from_config(config: dict[str, Any]) -> ModelFacts:
    # Multimodal models keep the language model's figures under text_config.
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else None
    source = text or config
    heads = source.get("num_attention_heads")
    positions = source.get("max_position_embeddings")
    rope = source.get("rope_scaling") or config.get("rope_scaling")
    return ModelFacts(
        num_attention_heads=heads if isinstance(heads, int) and heads > 0 else None,
        max_position_embeddings=positions if isinstance(positions, int) and positions > 0 else None,
        rope_scaling=bool(rope),
    )
