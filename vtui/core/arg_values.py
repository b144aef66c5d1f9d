"""Reading a vLLM argument's value from text (form, profile, CLI) by its catalogue kind."""

from __future__ import annotations

import json
from collections.abc import Sequence

from vtui.core.vllm_args import FLAG, FLOAT, INT, JSON, ArgSpec

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_SUFFIXES = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000, "K": 1024, "M": 1024**2, "G": 1024**3}


# vLLM's own spelling of "the longest length the memory allows" (vllm/config/model.py:
# max_model_len -1 is auto-fit, since 0.2x); the form takes the word.
AUTO_LENGTH = -1
AUTO_FLAGS = frozenset({"--max-model-len"})


def parse_value(spec: ArgSpec, text: str) -> object:
    """The value, or ValueError saying what was expected. Empty text means "vLLM's default"."""
    text = text.strip()
    if not text:
        return None
    if spec.flag in AUTO_FLAGS and text.lower() in ("auto", str(AUTO_LENGTH)):
        return AUTO_LENGTH
    if spec.kind == FLAG:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError("expected on or off")
    if spec.kind == INT:
        return _integer(text)
    if spec.kind == FLOAT:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number, not {text!r}") from None
    if spec.kind == JSON:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f'expected JSON such as {{"image": 2}}; this breaks at character {exc.pos + 1}'
            ) from None
    if spec.many:
        return text.split()
    if spec.choices and text not in spec.choices:
        raise ValueError(choice_problem(text, spec.choices))
    return text


def choice_problem(text: str, choices: Sequence[str], most: int = 5) -> str:
    """A bad choice, with at most `most` valid values: the nearest first."""
    if len(choices) <= most:
        return f"expected one of {', '.join(choices)}"
    import difflib

    near = difflib.get_close_matches(text, choices, n=most, cutoff=0.3)
    shown = near or list(choices[:most])
    rest = len(choices) - len(shown)
    return f"expected one of {', '.join(shown)} (or {rest} more: see the help box)"


def _integer(text: str) -> int:
    # vLLM's human-readable integers: 32k is 32,000, 32K is 32,768.
    number, scale = text, 1
    if text[-1] in _SUFFIXES:
        number, scale = text[:-1], _SUFFIXES[text[-1]]
    try:
        value = float(number) * scale if scale != 1 else int(number)
    except ValueError:
        raise ValueError(f"expected a whole number (32768, 32k, 32K), not {text!r}") from None
    if value != int(value):
        raise ValueError(f"expected a whole number, not {text!r}")
    return int(value)


def format_value(spec: ArgSpec, value: object) -> str:
    """The text the form shows for a value: the inverse of parse_value."""
    if value is None:
        return ""
    if spec.kind == FLAG:
        return "on" if value else "off"
    if spec.kind == JSON and not isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)
