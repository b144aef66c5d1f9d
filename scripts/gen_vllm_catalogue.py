"""Write vtui/core/vllm_args_data.py from the pinned vLLM release's own `vllm serve` parser.

Run it in an environment where that vLLM imports (its CPU deps are enough: nothing is
served). It builds the parser exactly as `vllm serve` does, through
vllm.entrypoints.common.cli_args.make_arg_parser, and records every option.

    python scripts/gen_vllm_catalogue.py > vtui/core/vllm_args_data.py
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import enum
import json
import pprint
import re
import sys
from typing import Any

SKIP = {"help", "model_tag"}
BOOL_ACTIONS = (
    argparse._StoreTrueAction,
    argparse._StoreFalseAction,
    argparse.BooleanOptionalAction,
)


def kind_of(action: argparse.Action) -> str:
    if isinstance(action, BOOL_ACTIONS):
        return "flag"
    convert = action.type
    if convert in (None, str):
        return "str"
    if convert is int:
        return "int"
    if convert is float:
        return "float"
    # vLLM wraps converters (optional_type, human_readable_int, json parsers): probe them.
    probes = (('{"a": 1}', dict, "json"), ("7", int, "int"), ("7.5", float, "float"))
    for text, result_type, kind in probes:
        try:
            value = convert(text)  # type: ignore[operator]
        except Exception:
            continue
        if isinstance(value, result_type) and not isinstance(value, bool):
            return kind
    return "str"


def one_line(text: str | None, action: argparse.Action) -> str:
    if not text:
        return ""
    if "%(" in text:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            text = text % {
                "default": action.default,
                "choices": action.choices,
                "dest": action.dest,
                "prog": "vllm serve",
            }
    text = re.sub(r"\s+", " ", text).strip()
    sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z`])", text, maxsplit=1)[0]
    return sentence if len(sentence) <= 240 else sentence[:237].rstrip() + "..."


def plain(value: Any) -> Any:
    """The default as a literal Python can read back (enums as their values)."""
    if isinstance(value, enum.Enum):
        value = value.value
    try:
        json.dumps(value)
        ast.literal_eval(repr(value))
        return value
    except (TypeError, ValueError, SyntaxError):
        return repr(value)


def entries(
    parser: argparse.ArgumentParser, registries: dict[str, tuple[str, ...]]
) -> list[dict[str, Any]]:
    out = []
    for group in parser._action_groups:
        for action in group._group_actions:
            if action.dest in SKIP or not action.option_strings:
                continue
            longs = [
                s for s in action.option_strings if s.startswith("--") and not s.startswith("--no-")
            ]
            flag = longs[0] if longs else action.option_strings[0]
            aliases = tuple(
                s for s in action.option_strings if s != flag and not s.startswith("--no-")
            )
            entry: dict[str, Any] = {
                "flag": flag,
                "dest": action.dest,
                "kind": kind_of(action),
                "default": plain(action.default),
                "help": one_line(action.help, action),
                "group": group.title or "",
            }
            if action.choices is not None:
                entry["choices"] = tuple(str(c) for c in action.choices if c is not None)
            elif isinstance(action.metavar, (list, tuple)):
                # A Literal that also admits any string: vLLM lists the known values as
                # the metavar instead of choices. The form offers them; others still pass.
                entry["suggested"] = tuple(str(v) for v in action.metavar)
            elif isinstance(action.metavar, str) and action.metavar.startswith("{"):
                entry["suggested"] = tuple(action.metavar.strip("{}").split(","))
            elif action.dest in registries:
                # Checked by vLLM after parsing, against these registries of the release.
                entry["suggested"] = registries[action.dest]
            if action.nargs in ("+", "*"):
                entry["many"] = True
            if isinstance(action, argparse.BooleanOptionalAction):
                entry["negatable"] = True
            if aliases:
                entry["aliases"] = aliases
            out.append(entry)
    return out


def main() -> int:
    # vLLM reads its help texts from the config classes' docstrings only when "--help" is
    # on the command line (NEEDS_HELP, evaluated at import); "serve" must not be there, or
    # the parser leaves out --model.
    sys.argv = ["vllm", "--help"]
    import vllm
    import vllm.platforms

    # Building the parser instantiates default configs, and DeviceConfig asks which device
    # it runs on; on a machine without a GPU nothing answers. The CPU platform does, and the
    # parser's defaults themselves do not depend on it (the device stays "auto").
    from vllm.platforms.cpu import CpuPlatform

    vllm.platforms._current_platform = CpuPlatform()

    from vllm.entrypoints.common.cli_args import make_arg_parser
    from vllm.model_executor.layers.quantization import QUANTIZATION_METHODS
    from vllm.reasoning import ReasoningParserManager
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    registries = {
        "quantization": tuple(QUANTIZATION_METHODS),
        "reasoning_parser": tuple(sorted(ReasoningParserManager.lazy_parsers)),
    }
    parser = make_arg_parser(FlexibleArgumentParser(prog="vllm serve"))
    data = entries(parser, registries)
    print(f'"""vLLM {vllm.__version__}\'s `vllm serve` arguments, as its own parser defines them.')
    print()
    print("Generated by scripts/gen_vllm_catalogue.py; do not edit by hand.")
    print('"""')
    print()
    print("from typing import Any")
    print()
    print(f'VLLM_ARGS_VERSION = "{vllm.__version__}"')
    print()
    print(
        "ARGS: tuple[dict[str, Any], ...] = "
        + pprint.pformat(tuple(data), width=96, sort_dicts=False)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
