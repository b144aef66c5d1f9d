"""What a `vllm serve` command line says: the model it serves and the name it answers to."""

from __future__ import annotations

from collections.abc import Sequence


def _value(argv: Sequence[str], flag: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.partition("=")[2]
    return None


def served_from_argv(argv: Sequence[str]) -> tuple[str | None, str | None]:
    """(model, served name) of `vllm serve MODEL ...`, `... --model M` or the api_server
    module; None where the line does not say."""
    model = _value(argv, "--model")
    if model is None and "serve" in argv:
        after = list(argv[list(argv).index("serve") + 1 :])
        if after and not after[0].startswith("-"):
            model = after[0]
    return model, _value(argv, "--served-model-name")
