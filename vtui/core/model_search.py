"""What a model search asks for, and which of the Hub's answers vLLM can serve.

The Hub filters by words, author, tag and parameter count itself; vtui keeps what vLLM
loads (safetensors, or GGUF marked experimental) of the tasks it serves, and names each
model's quantization from the tags the Hub gives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vtui.core.records import ModelSummary

# What the user picks -> the Hub's sort key (huggingface_hub's names).
SORTS: dict[str, str] = {
    "downloads": "downloads",
    "likes": "likes",
    "trending": "trending_score",
    "updated": "last_modified",
}
ANY = "any"
NO_QUANT = "none"
GGUF = "GGUF"
# Each quantization filter -> the Hub tag that marks it (the Hub tags repos from their
# quantization_config and file formats).
QUANT_TAGS: dict[str, str] = {
    "AWQ": "awq",
    "GPTQ": "gptq",
    "FP8": "fp8",
    "bnb": "bitsandbytes",
    GGUF: "gguf",
}
QUANTS: tuple[str, ...] = (ANY, *QUANT_TAGS, NO_QUANT)
# Parameter bands in billions: (low, high), high exclusive.
SIZE_BANDS: dict[str, tuple[float, float]] = {
    "0-4B": (0.0, 4.0),
    "4-16B": (4.0, 16.0),
    "16-80B": (16.0, 80.0),
    "80B+": (80.0, float("inf")),
}
SIZES: tuple[str, ...] = (ANY, *SIZE_BANDS)
# Tasks vLLM serves from an OpenAI-compatible endpoint: text, and text from images.
SERVABLE_TASKS = frozenset({"text-generation", "image-text-to-text"})
# Tags of quantized checkpoints that name no method the filters offer.
_OTHER_QUANT_TAGS = ("compressed-tensors", "4-bit", "8-bit", "mxfp4", "exl2", "hqq")


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    author: str = ""
    quant: str = ANY
    size: str = ANY
    sort: str = "downloads"

    def no_match(self) -> str:
        """What to widen when nothing matched, naming the filters that are set."""
        set_filters = []
        if self.author.strip():
            set_filters.append(
                f"the author “{self.author.strip()}” (matched exactly, as the Hub "
                "does: meta-llama, not meta)"
            )
        if self.quant != ANY:
            set_filters.append(f"the quantization ({self.quant})")
        if self.size != ANY:
            set_filters.append(f"the size ({self.size})")
        words = self.text.strip()
        if not set_filters:
            if words:
                return f"No model matches “{words}”: try fewer or other words."
            return "The Hub listed no model."
        return (
            "No model matches: widen "
            + ", ".join(set_filters)
            + (f", or try other words than “{words}”." if words else ".")
        )

    def describe(self) -> str:
        """The query in words, for the status line: 'matching "qwen", AWQ, 4-16B'."""
        parts = [f"matching \u201c{self.text.strip()}\u201d" if self.text.strip() else ""]
        parts.append(f"by {self.author.strip()}" if self.author.strip() else "")
        parts.append(self.quant if self.quant != ANY else "")
        parts.append(self.size if self.size != ANY else "")
        chosen = ", ".join(p for p in parts if p)
        return f"{chosen + ', ' if chosen else ''}by {self.sort}"


def hub_tag(query: SearchQuery) -> str | None:
    """The tag the Hub filters on for this quantization, when one names it."""
    return QUANT_TAGS.get(query.quant)


def hub_num_parameters(query: SearchQuery) -> str | None:
    """The Hub's num_parameters filter ('min:4B,max:16B') for the chosen band."""
    band = SIZE_BANDS.get(query.size)
    if band is None:
        return None
    low, high = band
    parts = [f"min:{low:g}B"] if low > 0 else []
    parts += [f"max:{high:g}B"] if high != float("inf") else []
    return ",".join(parts)


def quantization_of(repo_id: str, tags: Iterable[str]) -> str | None:
    """AWQ, GPTQ, FP8, bnb, GGUF, another method's tag, or None for full precision."""
    tagset = {t.lower() for t in tags}
    name = repo_id.lower()
    for label, tag in QUANT_TAGS.items():
        if tag in tagset or f"-{tag}" in name:
            return label
    if "bnb" in name:
        return "bnb"
    for tag in _OTHER_QUANT_TAGS:
        if tag in tagset:
            return tag
    return None


def servable(model: ModelSummary) -> bool:
    """vLLM can load it (safetensors, or GGUF experimentally) for a task it serves."""
    if model.pipeline_tag not in SERVABLE_TASKS:
        return False
    return model.has_safetensors or model.quant == GGUF


def matches(model: ModelSummary, query: SearchQuery) -> bool:
    """What the Hub's own filters leave to vtui: the 'none' quantization and the size band
    for models whose parameters the Hub counted."""
    if query.quant == NO_QUANT and model.quant is not None:
        return False
    if query.quant not in (ANY, NO_QUANT) and model.quant != query.quant:
        return False
    band = SIZE_BANDS.get(query.size)
    if band is not None:
        if model.params_billions is None:
            return False
        low, high = band
        return low <= model.params_billions < high
    return True


def keep(models: Iterable[ModelSummary], query: SearchQuery, limit: int) -> list[ModelSummary]:
    return [m for m in models if servable(m) and matches(m, query)][:limit]
