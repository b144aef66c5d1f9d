"""One model's details as the Models screen shows them: what vLLM would download, what the
model is, whether it can be had, and whether it fits. Pure: the hub backend gathers them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vtui.core import units
from vtui.core.model_config import facts_from_config
from vtui.core.model_search import GGUF

GATED_HELP = (
    "accept its terms on the model page, then `hf auth login` or set HF_TOKEN before downloading"
)
PENDING = "\u2026"
GGUF_HELP = (
    "GGUF: vLLM's GGUF loading is experimental and takes one .gguf file; a safetensors "
    "variant is the safer choice"
)


@dataclass(frozen=True)
class ModelDetails:
    repo_id: str
    quant: str | None = None
    gated: str | None = None  # "auto" / "manual"; None when anyone may download
    license: str | None = None
    last_modified: str | None = None
    dtype_parameters: Mapping[str, int] = field(default_factory=dict)
    needed_files: int = 0
    needed_bytes: int = 0
    skipped: tuple[str, ...] = ()
    config: Mapping[str, Any] | None = None
    # Why config.json could not be read (a gated repo without access, say).
    config_problem: str | None = None

    @property
    def architecture(self) -> str | None:
        names = (self.config or {}).get("architectures")
        return str(names[0]) if isinstance(names, list) and names else None

    @property
    def max_context(self) -> int | None:
        return facts_from_config(dict(self.config or {})).max_position_embeddings

    @property
    def torch_dtype(self) -> str | None:
        config = self.config or {}
        text = config.get("text_config")
        for source in (config, text if isinstance(text, Mapping) else {}):
            value = source.get("torch_dtype") or source.get("dtype")
            if isinstance(value, str):
                return value
        return None


def _dtypes(parameters: Mapping[str, int]) -> str:
    """'8.19B (BF16)' or '2.1B (I32 61%, F16 39%)'."""
    total = sum(parameters.values())
    if not total:
        return units.NOT_AVAILABLE
    shares = sorted(parameters.items(), key=lambda kv: kv[1], reverse=True)
    if len(shares) == 1:
        return f"{total / 1e9:.2f}B ({shares[0][0]})"
    split = ", ".join(f"{name} {count / total:.0%}" for name, count in shares[:3])
    return f"{total / 1e9:.2f}B ({split})"


def detail_lines(
    details: ModelDetails, fit: str | None, popularity: str | None = None
) -> list[str]:
    """The details pane, line by line; `fit` is the verdict for this machine's GPUs,
    `popularity` the listing's downloads and likes where the table has no room for them."""
    d = details
    files = (
        f"{units.plural(d.needed_files, 'file')}, {units.human_bytes(d.needed_bytes)}"
        if d.needed_files
        else "none vLLM can load (no safetensors)"
    )
    skipped = f"; skips {units.plural(len(d.skipped), 'file')}" if d.skipped else ""
    if d.config is not None:
        shape = (
            f"{d.architecture or units.NOT_AVAILABLE} \u00b7 context "
            f"{units.or_na(d.max_context, '{:,}')} \u00b7 {d.torch_dtype or 'dtype n/a'}"
        )
    else:
        shape = f"config.json unread: {d.config_problem or 'not in the repo'}"
    # Most telling first: a short pane shows the top lines only.
    lines = [
        d.repo_id,
        f"Fit here   {fit or PENDING}",
        f"Access     gated ({d.gated}): {GATED_HELP}" if d.gated else "Access     open",
        f"Download   {files}{skipped}",
        f"Model      {shape}",
        f"Params     {_dtypes(d.dtype_parameters)} \u00b7 quantization {d.quant or 'none'}",
        f"Licence    {d.license or units.NOT_AVAILABLE} \u00b7 updated "
        f"{d.last_modified or units.NOT_AVAILABLE}",
    ]
    if popularity:
        lines.append(f"Hub        {popularity}")
    if d.quant == GGUF:
        lines.insert(2, GGUF_HELP)
    return lines
