"""`vtui estimate`: will this model fit these GPUs under vLLM, and with how much KV cache."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from vtui.cli.arg_types import number, positive_int
from vtui.cli.common import fail
from vtui.core.kv_cache import GIB

if TYPE_CHECKING:  # the fit modules load only when estimate runs
    from vtui.backends.registry import Backends
    from vtui.core.fit import FitEstimate
    from vtui.core.fit_launch import GpuMemory

DESCRIPTION = """\
Predict, before launching, whether vLLM can serve MODEL on these GPUs: weights per GPU,
the KV cache that is left and how many tokens it holds, how many full-length requests
run at once, and what to change when it does not fit. The accounting follows vLLM 0.33's
own (weights + activation peak + non-torch + CUDA graphs, out of total x utilization).

MODEL is a Hub repo id (read from the HF cache when it is there, else only its config.json
and safetensors metadata are fetched), a local model directory, or a path to a config.json.
Without --gpu-mem-gib the GPUs are read through NVML, or, with --host, on that Docker host
(nvidia-smi in a short-lived helper container there, as `vtui gpus --host` reads them)."""
EPILOG = """\
examples:
  vtui estimate Qwen/Qwen3-8B
  vtui estimate --history
  vtui estimate meta-llama/Llama-3.3-70B-Instruct --gpu-mem-gib 79.2 --gpus 4 -tp 4
  vtui estimate Qwen/Qwen3-32B --host gpu-2 -tp 2     # on gpu-2's GPUs
  vtui estimate /data/models/qwen3-8b-awq --max-model-len 32K --kv-cache-dtype fp8 --json

exit status: 0 with an estimate (fitting or not; see "fits" in --json), 1 when the model or
the GPUs cannot be read, 2 for bad options."""


def _vllm_value(flag: str) -> Callable[[str], object]:
    """A value read as `vllm serve` reads it (32k is 32,000 and 32K 32,768; choices
    checked), by vtui's catalogue; imported only when the option is given."""

    def read(text: str) -> object:
        from vtui.core.arg_values import parse_value
        from vtui.core.vllm_args import CATALOGUE, VLLM_ARGS_VERSION

        try:
            value = parse_value(CATALOGUE[flag], text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if isinstance(value, int) and value < 1:
            raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
        known = CATALOGUE[flag].suggested
        if known and value not in known:  # the estimate can only weigh what it knows
            raise argparse.ArgumentTypeError(
                f"{text!r} is not one vLLM {VLLM_ARGS_VERSION} knows: {', '.join(known)}"
            )
        return value

    return read


def _catalogue_help(flag: str) -> str:
    from vtui.core.vllm_args import CATALOGUE

    spec = CATALOGUE[flag]
    first_sentence = (spec.help or "").split(". ")[0][:120]
    return first_sentence + (f" (one of: {', '.join(spec.choices)})" if spec.choices else "")


_fraction = number(0, 1, low_open=True)


def _length(text: str) -> object:
    return "auto" if text.strip().lower() == "auto" else _vllm_value("--max-model-len")(text)


def _release(text: str) -> str:
    import re

    if not re.fullmatch(r"\d{1,3}\.\d{1,3}\.\d{1,3}", text):
        raise argparse.ArgumentTypeError(f"write a release as 0.26.0, not {text[:40]!r}")
    return text


_gib = number(1, 4096, what="GiB as a number")


def add_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], *, catalogue_help: bool = True
) -> None:
    """catalogue_help=False leaves vLLM's help texts out, so a `vtui` that is not asked
    for `estimate` does not load the argument catalogue at start-up."""
    p = sub.add_parser(
        "estimate",
        help="will a model fit these GPUs, with how much KV cache",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(run=run)
    p.add_argument(
        "model", metavar="MODEL", nargs="?",
        help="Hub repo id, model directory or config.json",
    )  # fmt: skip
    p.add_argument(
        "--history", action="store_true",
        help="list the real starts this machine measured (vtui probe, launches) beside "
        "what was estimated for them, and the error of each",
    )  # fmt: skip
    p.add_argument(
        "--gpu-mem-gib",
        type=_gib,
        metavar="G",
        help="memory of one GPU in GiB as CUDA reports it (79.2 for an H100 80GB, 23.6 for "
        "a 24 GB card); default: read the local GPUs through NVML",
    )
    p.add_argument("--gpus", type=positive_int, metavar="N", help="how many GPUs there are to use")
    p.add_argument(
        "--host", metavar="NAME", help="fit on that Docker host's GPUs (see `vtui hosts`)"
    )
    p.add_argument(
        "--gpu-memory-utilization", type=_fraction, default=None, metavar="U",
        help="share of each GPU vLLM may take (default: vLLM's own default)",
    )  # fmt: skip
    p.add_argument("-tp", "--tensor-parallel-size", type=positive_int, default=1, metavar="T")
    p.add_argument("-pp", "--pipeline-parallel-size", type=positive_int, default=1, metavar="P")
    p.add_argument(
        "--max-model-len", type=_length, metavar="L",
        help="tokens per request (32k = 32,000, 32K = 32,768, as vLLM reads it), or auto: "
        "the largest multiple of 1,024 one request fits in; default: the model's own "
        "maximum, as vLLM",
    )  # fmt: skip
    for flag in ("--kv-cache-dtype", "--dtype", "--quantization"):
        name = flag[2:].upper().replace("-", "_")
        text = _catalogue_help(flag) if catalogue_help else "as for vllm serve"
        p.add_argument(flag, type=_vllm_value(flag), metavar=name, help=text)
    p.add_argument("--enforce-eager", action="store_true", help="no CUDA graphs (less memory)")
    p.add_argument("--max-num-seqs", type=positive_int, metavar="N")
    p.add_argument("--max-num-batched-tokens", type=positive_int, metavar="N")
    p.add_argument("--no-enable-prefix-caching", action="store_true",
                   help="as vllm serve: Mamba / linear-attention layers then keep one state "
                   "block per request, not two or three")  # fmt: skip
    p.add_argument(
        "--vllm-version", metavar="V", type=_release,
        help="the vLLM release that will run it: 0.26.0 uses that release's measured "
        "accounting (Model Runner V2 for most models); any other, the pinned release's",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                   help="use the demo's simulated Hub and H100s")  # fmt: skip


def _vllm_args(args: argparse.Namespace) -> dict[str, object]:
    chosen: dict[str, Any] = {
        "--gpu-memory-utilization": args.gpu_memory_utilization,
        "--tensor-parallel-size": args.tensor_parallel_size,
        "--pipeline-parallel-size": args.pipeline_parallel_size,
        "--max-model-len": None if args.max_model_len == "auto" else args.max_model_len,
        "--kv-cache-dtype": args.kv_cache_dtype,
        "--dtype": args.dtype,
        "--quantization": args.quantization,
        "--enforce-eager": True if args.enforce_eager else None,
        "--max-num-seqs": args.max_num_seqs,
        "--max-num-batched-tokens": args.max_num_batched_tokens,
        "--enable-prefix-caching": False if args.no_enable_prefix_caching else None,
    }
    return {k: v for k, v in chosen.items() if v is not None}


def run(args: argparse.Namespace, backends: Backends) -> int:
    from vtui.core.errors import BackendUnavailable
    from vtui.core.fit_launch import GpuMemory, gpu_memory
    from vtui.core.launch_spec import LaunchSpec
    from vtui.services.fitting import FitUnknown, find_model, fit_of, learned

    if args.history:
        return _history(backends, args.json)
    if not args.model:
        return fail("give a MODEL to estimate (or --history for past starts)", "vtui estimate")
    from vtui.core.vllm_release import DEFAULT_IMAGE, VLLM_IMAGE

    image = f"{VLLM_IMAGE}:v{args.vllm_version}" if args.vllm_version else DEFAULT_IMAGE
    spec = LaunchSpec(name="estimate", model=args.model, args=_vllm_args(args), image=image)
    wanted = args.gpus or args.tensor_parallel_size * args.pipeline_parallel_size
    if args.gpu_mem_gib is not None:
        memory = GpuMemory(int(args.gpu_mem_gib * GIB), wanted, "given")
        gpu_source = f"given: {args.gpu_mem_gib:g} GiB per GPU (--gpu-mem-gib)"
    else:
        from vtui.core.hosts import HostProblem
        from vtui.services.gpu_feed import read_host_gpus
        from vtui.services.hosts import checked_host

        try:
            snapshot, where = read_host_gpus(backends, checked_host(backends, args.host), ())
            readings = snapshot.gpus
        except HostProblem as exc:
            return fail(str(exc), "vtui estimate")
        except BackendUnavailable as exc:
            return fail(
                f"no GPU to read ({exc}); give --gpu-mem-gib G to estimate for one", "vtui estimate"
            )
        available = readings[: args.gpus] if args.gpus else readings
        # vLLM takes the first tensor x pipeline GPUs; the rest only count for advice.
        found = gpu_memory(spec, available)
        if found is None:
            return fail(
                "no GPU reported its memory through NVML; give --gpu-mem-gib G", "vtui estimate"
            )
        memory = replace(found, count=len(available))
        how = "through NVML" if args.host in (None, "local") else f"by {where}"
        gpu_source = f"read {how}: {memory.count} x {memory.name}"
    try:
        checkpoint = find_model(backends, args.model)
        past = learned(backends)
        for warning in past.warnings:
            print(f"vtui estimate: warning: {warning}", file=sys.stderr)
        chosen_length = ""
        if args.max_model_len == "auto":
            spec, chosen_length = _auto_length(spec, checkpoint, memory)
        fit = fit_of(
            spec, checkpoint, memory, check_free=args.gpu_mem_gib is None, learned=past.records
        )
    except FitUnknown as exc:
        # One message per failure: the Hub's own words often name the model already.
        words = str(exc)
        return fail(words if args.model in words else f"{args.model}: {words}", "vtui estimate")
    if args.json:
        answer = _as_json(fit, checkpoint.source, gpu_source, memory)
        if chosen_length:
            answer["max_model_len_auto"] = chosen_length
        print(json.dumps(answer, indent=2))
        return 0
    if chosen_length:
        print(f"max-model-len auto: {chosen_length}")
    else:
        print(_as_text(args.model, fit, checkpoint.source, gpu_source, args.vllm_version))
    return 0


def _auto_length(spec: Any, checkpoint: Any, memory: GpuMemory) -> tuple[Any, str]:
    """The spec with the length `auto` picks, and the line that says why."""
    from dataclasses import replace as with_fields

    from vtui.core.fit import auto_max_model_len
    from vtui.core.fit_launch import fit_request
    from vtui.core.model_shape import UnknownModel, shape

    try:
        model = shape(checkpoint.config)
    except UnknownModel as exc:
        return spec, f"none ({exc})"
    length, why = auto_max_model_len(
        model, fit_request(spec, memory), dtype_parameters=dict(checkpoint.dtype_parameters)
    )
    if length is None:
        return spec, f"none: {why}"
    return with_fields(
        spec, args={**spec.args, "--max-model-len": length}
    ), f"{length:,}, set by {why}"


def _gib_figure(n: int) -> float:
    return round(n / GIB, 2)


def _as_json(
    fit: FitEstimate, model_source: str, gpu_source: str, memory: GpuMemory
) -> dict[str, Any]:
    b = fit.budget
    return {
        "verdict": fit.verdict.value,
        "fits": fit.fits,
        "weights_gib_per_gpu": _gib_figure(b.weights),
        "kv_cache_gib_per_gpu": _gib_figure(max(0, b.kv_cache)),
        "kv_cache_tokens": fit.kv_cache_tokens,
        "max_model_len": fit.max_model_len,
        "max_concurrency": None if fit.max_concurrency is None else round(fit.max_concurrency, 2),
        "advice": list(fit.advice),
        "fixes": [{"flag": f.flag, "value": f.value} for f in fit.fixes],
        "gpu_total_gib": _gib_figure(b.total),
        "gpu_count": memory.count,
        "requested_gib": _gib_figure(b.requested),
        "activation_gib": _gib_figure(b.activation),
        "non_torch_gib": _gib_figure(b.non_torch),
        "cuda_graph_gib": _gib_figure(b.cuda_graphs),
        "kv_bytes_per_token": fit.kv_bytes_per_token,
        "hybrid_layers": fit.hybrid_layers,
        "weights_from": _weights_from(fit),
        "measured_on": b.measured_on,
        "accounting": b.accounting,
        "model_runner": b.runner,
        "model_source": model_source,
        "gpu_source": gpu_source,
        "unknown_reason": fit.unknown_reason,
        "gpu_busy": fit.busy,
    }


def _accounting_line(fit: FitEstimate, asked: str | None) -> str:
    b = fit.budget
    said = f"accounting of vLLM {b.accounting} (model runner {b.runner})"
    if asked and asked != b.accounting:
        said += f"; vLLM {asked} was not measured, so the accounting of {b.accounting} is used"
    return said


def _as_text(
    model: str, fit: FitEstimate, model_source: str, gpu_source: str, asked: str | None = None
) -> str:
    b = fit.budget
    weights_from = _weights_from(fit)
    lines = [
        f"{model}  (config from {model_source}; weights {weights_from})",
        f"GPUs: {gpu_source}; {b.total / GIB:.1f} GiB each, vLLM may use "
        f"{b.requested / GIB:.1f} GiB",
        f"per GPU: weights {b.weights / GIB:.2f} GiB, activations {b.activation / GIB:.2f}, "
        f"non-torch {b.non_torch / GIB:.2f}, CUDA graphs {b.cuda_graphs / GIB:.2f}, "
        f"KV cache {max(0, b.kv_cache) / GIB:.2f} GiB",
    ]
    if fit.kv_cache_tokens is not None and fit.kv_bytes_per_token:
        lines.append(
            f"KV cache: {fit.kv_cache_tokens:,} tokens ({fit.kv_bytes_per_token / 1024:.0f} KiB "
            f"each per GPU)"
            + (
                f"; {fit.max_concurrency:.1f} requests of {fit.max_model_len:,} tokens at once"
                if fit.max_concurrency is not None and fit.max_model_len
                else ""
            )
        )
    if fit.hybrid_layers:
        lines.append(
            f"layers: {fit.hybrid_layers}; the per-token size counts the full-attention ones"
        )
    lines.append(_accounting_line(fit, asked))
    if b.measured_on:
        lines.append(
            f"measured on this machine on {b.measured_on}: weights, activations, non-torch "
            "and CUDA graphs are vLLM's own figures for this launch (vtui estimate --history)"
        )
    lines.append(f"verdict: {fit.summary}")
    lines += [f"  - {line}" for line in fit.advice]
    if fit.busy:
        lines.append(f"note: {fit.busy}")
    return "\n".join(lines)


def _weights_from(fit: FitEstimate) -> str:
    b = fit.budget
    if b.measured_on:
        return f"measured by vLLM on {b.measured_on}"
    return "tensor sizes" if b.weights_measured else "counted from config.json"


def _history(backends: Backends, as_json: bool) -> int:
    from vtui.services.fitting import learned

    past = learned(backends)
    for warning in past.warnings:
        print(f"vtui estimate: warning: {warning}", file=sys.stderr)
    records = sorted(past.records, key=lambda r: r.at)
    if as_json:
        rows = [
            {
                "at": r.at,
                "source": r.source,
                "model": r.key.model,
                "gpu": r.key.gpu_name,
                "tensor_parallel": r.key.tensor_parallel,
                "vllm_version": r.vllm_version,
                "runner": r.runner or "V1",
                "estimated_tokens": r.estimated.kv_cache_tokens if r.estimated else None,
                "measured_tokens": r.measured.kv_cache_tokens,
                "token_error": None if r.token_error() is None else round(r.token_error() or 0, 4),
            }
            for r in records
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not records:
        print(
            "No starts measured on this machine yet: `vtui probe PROFILE` measures one, and "
            "every launch vtui follows is kept."
        )
        return 0
    print(f"{'WHEN':<17}{'HOW':<7}{'MODEL':<36}{'TP':>3} {'VLLM':<9}"
          f"{'ESTIMATED':>12}{'MEASURED':>12}{'ERROR':>8}")  # fmt: skip
    errors = []
    for r in records:
        error = r.token_error()
        guess = r.estimated.kv_cache_tokens if r.estimated else None
        if error is not None:
            errors.append(abs(error))
        print(
            f"{r.at[:16].replace('T', ' '):<17}{r.source:<7}{r.key.model[:35]:<36}"
            f"{r.key.tensor_parallel:>3} {r.vllm_version[:8]:<9}"
            f"{'-' if guess is None else f'{guess:,}':>12}{r.measured.kv_cache_tokens:>12,}"
            f"{'-' if error is None else f'{error:+.1%}':>8}"
        )
    if errors:
        print(
            f"KV-token error of {len(errors)} estimates: mean {sum(errors) / len(errors):.1%}, "
            f"worst {max(errors):.1%}"
        )
    return 0
