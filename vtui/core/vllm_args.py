"""vLLM's `vllm serve` arguments: the one catalogue behind the form, validation, help and rendering.

The entries are generated from the pinned release's own argument parser
(scripts/gen_vllm_catalogue.py writes vllm_args_data.py); nothing here is typed by hand
except vtui's choice of which arguments the Launch form shows, and how it groups them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from vtui.core.vllm_args_data import ARGS, VLLM_ARGS_VERSION

# How an argument's value is written and checked.
FLAG = "flag"  # no value: --x (and --no-x when negatable)
INT, FLOAT, STR, JSON = "int", "float", "str", "json"


@dataclass(frozen=True)
class ArgSpec:
    flag: str  # the long option, e.g. "--max-model-len"
    dest: str  # the attribute name vLLM gives it, e.g. "max_model_len"
    kind: str  # FLAG, INT, FLOAT, STR or JSON
    default: object
    help: str
    group: str  # vLLM's own group (the config class it belongs to)
    choices: tuple[str, ...] | None = None
    # Known values of an argument that also takes others (vLLM's Literal | str arguments).
    suggested: tuple[str, ...] | None = None
    many: bool = False  # takes one or more values (nargs "+" or "*")
    negatable: bool = False  # --no-NAME exists
    aliases: tuple[str, ...] = ()

    @property
    def negative_flag(self) -> str | None:
        return "--no-" + self.flag[2:] if self.negatable else None


CATALOGUE: dict[str, ArgSpec] = {a.flag: a for a in (ArgSpec(**entry) for entry in ARGS)}
BY_DEST: dict[str, ArgSpec] = {a.dest: a for a in CATALOGUE.values()}
ALL_OPTION_STRINGS: frozenset[str] = frozenset(
    s
    for a in CATALOGUE.values()
    for s in (a.flag, *a.aliases, *((a.negative_flag,) if a.negative_flag else ()))
)

# vtui's Launch form: the arguments people actually set, in vtui's groups, in this order.
FORM_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Model",
        (
            "--served-model-name",
            "--tokenizer",
            "--revision",
            "--dtype",
            "--quantization",
            "--trust-remote-code",
            "--load-format",
            "--seed",
            "--generation-config",
        ),
    ),
    (
        "Memory",
        (
            "--max-model-len",
            "--gpu-memory-utilization",
            "--kv-cache-dtype",
            "--cpu-offload-gb",
            "--enforce-eager",
        ),
    ),
    ("Parallelism", ("--tensor-parallel-size", "--pipeline-parallel-size", "--data-parallel-size")),
    (
        "Scheduling",
        (
            "--max-num-seqs",
            "--max-num-batched-tokens",
            "--enable-prefix-caching",
            "--enable-chunked-prefill",
        ),
    ),
    ("Serving and security", ("--host", "--port", "--api-key", "--chat-template")),
    (
        "Tools and reasoning",
        (
            "--enable-auto-tool-choice",
            "--tool-call-parser",
            "--reasoning-parser",
            "--limit-mm-per-prompt",
        ),
    ),
)
FORM_FLAGS: tuple[str, ...] = tuple(f for _, flags in FORM_GROUPS for f in flags)


def lookup(option: str) -> ArgSpec | None:
    """The argument an option string names: its flag, an alias, or its --no- form."""
    name = option.split("=", 1)[0]
    if name in CATALOGUE:
        return CATALOGUE[name]
    for spec in CATALOGUE.values():
        if name in spec.aliases or name == spec.negative_flag:
            return spec
    return None


def nearest(option: str) -> str | None:
    """The known option closest to a mistyped one, for "did you mean ...?"."""
    name = option.split("=", 1)[0]
    if not name.startswith("-"):
        name = "--" + name
    found = difflib.get_close_matches(name, sorted(ALL_OPTION_STRINGS), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(option: str) -> str:
    """ "; did you mean --x?" for a mistyped option, or nothing when no flag is close."""
    hint = nearest(option)
    return f"; did you mean {hint}?" if hint else ""


__all__ = [
    "CATALOGUE",
    "FORM_FLAGS",
    "FORM_GROUPS",
    "VLLM_ARGS_VERSION",
    "ArgSpec",
    "did_you_mean",
    "lookup",
    "nearest",
]
