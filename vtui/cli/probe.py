"""`vtui probe PROFILE`: vLLM's own memory figures for a profile, without its weights."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from vtui.cli.arg_types import new_file, number
from vtui.cli.common import fail
from vtui.core.kv_cache import GIB

if TYPE_CHECKING:
    from vtui.backends.registry import Backends
    from vtui.services.probing import ProbeResult

DESCRIPTION = """\
Start the profile's vLLM (its image or program, its GPUs and settings) with random
weights (--load-format dummy) built from the model's config.json alone, read the memory
vLLM itself measures (weights, activation peak, non-torch memory, CUDA graphs, the KV
cache and its tokens), then stop and remove it. Nothing of the weights is downloaded: a
Hub model's config.json is fetched (or read from the HF cache) into vtui's state folder.

The figures are vLLM's own for the release the image holds, so they are exact where
`vtui estimate` only knows vLLM 0.33's accounting. Each probe is kept in the calibration
store; the next estimate of the same launch on this machine uses it."""
EPILOG = """\
examples:
  vtui probe qwen3-8b
  vtui probe llama70 --json

exit status: 0 when vLLM measured the profile, 1 when it refused to start (the reason and
the fix are printed) or the probe could not start, 130 when interrupted (the probe is
removed either way)."""

_seconds = number(10, 7200, what="seconds")


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "probe",
        help="measure a profile with vLLM itself, dummy weights, before downloading",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(run=run)
    p.add_argument("profile", metavar="PROFILE", help="a saved launch profile (vtui profile ls)")
    p.add_argument(
        "--timeout", type=_seconds, default=900.0, metavar="S",
        help="give up (and remove the probe) after S seconds; default 900",
    )  # fmt: skip
    p.add_argument(
        "--log", metavar="FILE", type=new_file,
        help="also write vLLM's log of the probe to FILE (what it printed, as it printed it)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                   help="probe in the demo world")  # fmt: skip


def run(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.services.probing import ProbeFailed, probe

    def progress(words: str) -> None:
        print(f"  {words}", file=sys.stderr, flush=True)

    try:
        result = probe(backends, args.profile, on_progress=progress, deadline_seconds=args.timeout)
    except ProbeFailed as exc:
        return fail(f"probe of {args.profile}: {exc}")
    except KeyboardInterrupt:
        print("\nvtui: probe interrupted; its container was removed", file=sys.stderr)
        return 130
    finally:
        backends.gpu.close()
    if args.log is not None:
        try:
            args.log.write_text("".join(f"{line}\n" for line in result.log))
        except OSError as exc:
            print(f"vtui: warning: cannot write {args.log}: {exc.strerror or exc}", file=sys.stderr)
    if args.json:
        print(json.dumps(as_json(result), indent=2))
    else:
        print(as_text(result))
    return 0 if result.measured is not None and result.refusal is None else 1


def _gib(n: int) -> float:
    return round(n / GIB, 2)


def as_json(result: ProbeResult) -> dict[str, Any]:
    f, m, e = result.figures, result.measured, result.estimate
    return {
        "profile": result.profile,
        "model": result.model,
        "seconds": round(result.seconds, 1),
        "vllm_version": f.vllm_version,
        "model_runner": f.runner or "V1",
        "measured": None
        if m is None
        else {
            "weights_gib": m.weights_gib,
            "activation_gib": m.activation_gib,
            "non_torch_gib": m.non_torch_gib,
            "cuda_graph_estimate_gib": m.graph_estimate_gib,
            "cuda_graphs_captured_gib": m.cuda_graphs_gib,
            "kv_cache_gib": m.kv_cache_gib,
            "kv_cache_tokens": m.kv_cache_tokens,
            "max_concurrency": m.max_concurrency,
            "context_tokens": m.context_tokens,
        },
        "estimated": None
        if e is None
        else {
            "verdict": e.verdict.value,
            "weights_gib": _gib(e.budget.weights),
            "activation_gib": _gib(e.budget.activation),
            "non_torch_gib": _gib(e.budget.non_torch),
            "cuda_graph_gib": _gib(e.budget.cuda_graphs),
            "kv_cache_gib": _gib(max(0, e.budget.kv_cache)),
            "kv_cache_tokens": e.kv_cache_tokens,
        },
        "refusal": result.refusal,
        "cause": result.explanation.cause if result.explanation else None,
        "fix": result.explanation.fix if result.explanation else None,
        "longest_fitting": result.longest_fitting,
        "timed_out": result.timed_out,
        "command": list(result.command),
    }


def _row(name: str, measured: float | None, estimated: float | None) -> str:
    left = "-" if measured is None else f"{measured:.2f} GiB"
    right = "-" if estimated is None else f"{estimated:.2f} GiB"
    return f"  {name:<14}{left:>12}{right:>14}"


def as_text(result: ProbeResult) -> str:
    f, m, e = result.figures, result.measured, result.estimate
    runner = f"model runner {f.runner}" if f.runner else "model runner V1"
    version = f"vLLM {f.vllm_version}" if f.vllm_version else "vLLM (version not printed)"
    lines = [
        f"probe of {result.profile}: {result.model}, {version}, {runner}, dummy weights, "
        f"{result.seconds:.0f} s"
    ]
    if result.timed_out:
        lines.append("  gave up: vLLM had not sized its KV cache by the deadline (probe removed)")
    if m is not None:
        b = e.budget if e else None
        guessed: dict[str, float | None] = {
            "weights": b.weights / GIB if b else None,
            "activation": b.activation / GIB if b else None,
            "non-torch": b.non_torch / GIB if b else None,
            "CUDA graphs": b.cuda_graphs / GIB if b else None,
            "KV cache": max(0, b.kv_cache) / GIB if b else None,
        }
        lines.append(f"  {'':<14}{'measured':>12}{'estimated':>14}")
        lines.append(_row("weights", m.weights_gib, guessed["weights"]))
        lines.append(_row("activation", m.activation_gib, guessed["activation"]))
        lines.append(_row("non-torch", m.non_torch_gib, guessed["non-torch"]))
        lines.append(_row("CUDA graphs", m.graph_estimate_gib, guessed["CUDA graphs"]))
        lines.append(_row("KV cache", m.kv_cache_gib, guessed["KV cache"]))
        guess = e.kv_cache_tokens if e else None
        error = f"  ({(guess - m.kv_cache_tokens) / m.kv_cache_tokens:+.1%})" if guess else ""
        lines.append(
            f"  {'KV tokens':<14}{m.kv_cache_tokens:>12,}{'' if guess is None else f'{guess:>14,}'}"
            + error
        )
        if m.max_concurrency is not None and m.context_tokens:
            lines.append(
                f"  {m.max_concurrency:.2f}x requests of {m.context_tokens:,} tokens at once"
            )
        if m.cuda_graphs_gib:
            lines.append(
                f"  CUDA graphs captured after sizing the cache: {m.cuda_graphs_gib:.2f} GiB"
            )
        lines.append("  kept: the next estimate of this launch on this machine uses these figures")
    if result.refusal:
        lines.append(f"vLLM refused to start: {result.refusal}")
        why = result.explanation
        if why is not None:
            lines += [f"  why: {why.cause}", f"  fix: {why.fix}"]
        if result.longest_fitting:
            lines.append(
                f"  the longest request that fits: {result.longest_fitting:,} tokens "
                f"(--max-model-len {result.longest_fitting})"
            )
    return "\n".join(lines)
