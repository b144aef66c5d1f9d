"""Reading vLLM arguments as written on its command line (`--max-model-len 32k`)."""

from __future__ import annotations

from vtui.core.arg_values import parse_value
from vtui.core.launch_checks import Problem
from vtui.core.vllm_args import FLAG, did_you_mean, lookup


def args_from_tokens(tokens: list[str]) -> tuple[dict[str, object], list[Problem]]:
    """The arguments by flag, and a problem for each token that is not a vLLM argument."""
    args: dict[str, object] = {}
    problems: list[Problem] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        name, has_inline, inline = token.partition("=")
        spec = lookup(name) if token.startswith("-") else None
        if spec is None:
            hint = did_you_mean(name) if token.startswith("-") else ""
            problems.append(Problem(name, "not a vLLM argument" + hint))
            continue
        if spec.kind == FLAG and not has_inline:
            args[spec.flag] = name != spec.negative_flag
            continue
        if has_inline:
            values = [inline]
        elif spec.many:
            values = []
            while i < len(tokens) and not tokens[i].startswith("--"):
                values.append(tokens[i])
                i += 1
        elif i < len(tokens):
            values = [tokens[i]]
            i += 1
        else:
            values = []
        if not values:
            problems.append(Problem(spec.flag, "needs a value"))
            continue
        try:
            args[spec.flag] = parse_value(spec, " ".join(values))
        except ValueError as exc:
            problems.append(Problem(spec.flag, str(exc)))
    return args, problems
