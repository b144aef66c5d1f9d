"""The fit check against vLLM's own startup figures, and the verdicts a user acts on."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vtui.core.fit import GIB, FitRequest, Verdict, estimate, friendly_length, short_verdict
from vtui.core.model_shape import UnknownModel, estimated_weight_bytes, max_model_len, shape

ALL_ROWS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "fit_rows.json").read_text()
)
ROWS = [r for r in ALL_ROWS if not r.get("refused")]  # the starts vLLM sized a cache for
# Starts of real vLLM 0.26.0 that `vtui probe` ran on the lent H200 (this round's own).
PROBED = [r for r in ALL_ROWS if r["source"].startswith("vtui probe")]
TOLERANCE = 0.10  # the bound on KV-cache tokens; the goal is 5%


def request_for(row: dict[str, Any]) -> FitRequest:
    return FitRequest(
        gpu_total_bytes=int(row["gpu_total_gib"] * GIB),
        gpu_name=row["gpu_name"],
        utilization=row["utilization"],
        tensor_parallel=row["tensor_parallel_size"],
        pipeline_parallel=row["pipeline_parallel_size"],
        max_model_len=row["max_model_len"],
        kv_cache_dtype=row["kv_cache_dtype"],
        dtype=row["dtype"],
        quantization=row["quantization"],
        count_cuda_graphs=row["count_cuda_graphs"],
        max_num_batched_tokens=row.get("max_num_batched_tokens"),
        max_num_seqs=row.get("max_num_seqs"),
        enforce_eager=row.get("enforce_eager", False),
        vllm_version=row["vllm"],
    )


def predicted(row: dict[str, Any]) -> tuple[float, float]:
    """(KV GiB, KV tokens) the estimator gives for this row."""
    fit = estimate(
        shape(row["config"]), request_for(row), dtype_parameters=row.get("dtype_parameters")
    )
    assert fit.kv_cache_tokens is not None
    return fit.budget.kv_cache / GIB, float(fit.kv_cache_tokens)


def reported_tokens(row: dict[str, Any]) -> float:
    """vLLM's token count, or the GiB it reported over the per-token size where it gave none."""
    if "tokens" in row["reported"]:
        return float(row["reported"]["tokens"])
    fit = estimate(
        shape(row["config"]), request_for(row), dtype_parameters=row.get("dtype_parameters")
    )
    assert fit.kv_bytes_per_token
    return row["reported"]["kv_gib"] * GIB / fit.kv_bytes_per_token


def label(row: dict[str, Any]) -> str:
    parts = [row["model"].split("/")[-1], f"tp{row['tensor_parallel_size']}"]
    parts += [f"pp{row['pipeline_parallel_size']}"] if row["pipeline_parallel_size"] > 1 else []
    parts += [f"kv-{row['kv_cache_dtype']}"] if row["kv_cache_dtype"] != "auto" else []
    parts += [row["dtype"]] if row["dtype"] != "auto" else []
    parts += [f"q-{row['quantization']}"] if row["quantization"] else []
    return "-".join(parts)


@pytest.mark.parametrize("row", ROWS, ids=[label(r) for r in ROWS])
def test_kv_tokens_within_ten_percent_of_what_vllm_reported(row: dict[str, Any]) -> None:
    _, tokens = predicted(row)
    error = tokens / reported_tokens(row) - 1
    assert abs(error) <= TOLERANCE, f"{label(row)}: {error:+.1%} ({row['source']})"


@pytest.mark.parametrize(
    "row",
    [r for r in ROWS if "weights_gib" in r["reported"] and r.get("dtype_parameters")],
    ids=lambda r: label(r),
)
def test_weights_per_gpu_match_model_loading_took(row: dict[str, Any]) -> None:
    fit = estimate(
        shape(row["config"]), request_for(row), dtype_parameters=row.get("dtype_parameters")
    )
    assert fit.budget.weights / GIB == pytest.approx(row["reported"]["weights_gib"], rel=0.02)


def test_calibration_table(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints every row's error (run with -s); the worst one goes in the closing note."""
    lines, worst = [], 0.0
    for row in ROWS:
        gib, tokens = predicted(row)
        error = tokens / reported_tokens(row) - 1
        worst = max(worst, abs(error))
        lines.append(
            f"{label(row):44} vLLM {row['vllm']:7} KV {row['reported']['kv_gib']:6.2f} GiB "
            f"predicted {gib:6.2f} GiB, tokens {error:+6.2%}"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines) + f"\nworst row: {worst:.2%} over {len(ROWS)} rows")
    assert worst <= TOLERANCE


def test_real_vllm_starts_kv_tokens_within_one_percent_mean_and_two_worst() -> None:
    """The issue's target on real vLLM: 1% mean, 2% worst on KV tokens."""
    measured = [r for r in PROBED if not r.get("refused")]
    assert len(measured) >= 10
    errors = [abs(predicted(r)[1] / reported_tokens(r) - 1) for r in measured]
    assert sum(errors) / len(errors) <= 0.01, errors
    assert max(errors) <= 0.02, errors


@pytest.mark.parametrize(
    "row", [r for r in PROBED if not r.get("refused")], ids=lambda r: r["source"].split()[2]
)
def test_real_vllm_starts_weights_within_one_percent(row: dict[str, Any]) -> None:
    """1%, or 0.12 GiB on a small model: vLLM's Qwen2 loads took 0.11 GiB more than the
    tensors at 1.5B and at 7B alike, a constant not yet traced to its buffer."""
    fit = estimate(shape(row["config"]), request_for(row))
    reported = row["reported"]["weights_gib"]
    assert abs(fit.budget.weights / GIB - reported) <= max(0.01 * reported, 0.12)


def test_no_start_vllm_refused_is_called_a_fit() -> None:
    refused = [r for r in PROBED if r.get("refused")]
    assert refused
    for row in refused:
        fit = estimate(shape(row["config"]), request_for(row))
        assert not fit.fits, row["source"]
        # The shorter length offered fits where vLLM said the longest is.
        offered = next(f.value for f in fit.fixes if f.flag == "--max-model-len")
        assert isinstance(offered, int) and offered <= row["reported"]["longest_fitting"]


def test_the_model_runner_follows_vllm_0_26s_choice() -> None:
    runners = {r["source"].split()[2]: r["model_runner"] for r in PROBED}
    for row in PROBED:
        fit = estimate(shape(row["config"]), request_for(row))
        assert fit.budget.runner == runners[row["source"].split()[2]], row["source"]
        assert fit.budget.accounting == "0.26.0"


# ---- verdicts -------------------------------------------------------------------------

H100 = int(79.19 * GIB)
LLAMA_8B = next(r for r in ROWS if r["model"].endswith("Llama-3.1-8B-Instruct"))
QWEN3_8B = next(r for r in ROWS if r["model"] == "Qwen/Qwen3-8B")
LLAMA_70B_CONFIG = {
    **LLAMA_8B["config"],
    "num_hidden_layers": 80,
    "hidden_size": 8192,
    "intermediate_size": 28672,
    "num_attention_heads": 64,
}


def test_a_70b_model_on_one_h100_names_the_tensor_parallel_size_that_fits() -> None:
    fit = estimate(
        shape(LLAMA_70B_CONFIG),
        # At 0.90 two H100s are just too small; at vLLM's 0.92 they take the weights.
        FitRequest(gpu_total_bytes=H100, gpu_count=8, utilization=0.9),
        dtype_parameters={"BF16": 70_553_706_496},
    )
    assert fit.verdict is Verdict.WEIGHTS_TOO_LARGE and not fit.fits
    assert fit.budget.weights / GIB == pytest.approx(131.4, abs=0.2)
    assert any("--tensor-parallel-size 4" in line for line in fit.advice)
    assert fit.fixes[0].flag == "--tensor-parallel-size" and fit.fixes[0].value == 4
    assert any("AWQ/GPTQ" in line for line in fit.advice)


def test_a_tensor_parallel_size_beyond_this_machine_is_advice_not_a_fix() -> None:
    fit = estimate(
        shape(LLAMA_70B_CONFIG),
        FitRequest(gpu_total_bytes=H100, gpu_count=2, utilization=0.9),
        dtype_parameters={"BF16": 70_553_706_496},
    )
    assert any("this machine has 2" in line for line in fit.advice)
    assert fit.tensor_parallel_needed == 4 and short_verdict(fit) == "needs TP 4"
    assert not [f for f in fit.fixes if f.flag == "--tensor-parallel-size"]


def test_too_long_a_context_gives_the_largest_friendly_length_that_fits() -> None:
    model = shape(QWEN3_8B["config"])
    request = replace(request_for(QWEN3_8B), max_model_len=None, utilization=0.9)  # 40,960 own
    fit = estimate(model, request, dtype_parameters=QWEN3_8B["dtype_parameters"])
    assert fit.verdict is Verdict.CONTEXT_TOO_LONG
    assert fit.max_model_len == 40960
    fix = fit.fixes[0]
    assert fit.kv_cache_tokens is not None and fit.kv_cache_tokens < 40960
    assert fix.flag == "--max-model-len" and fix.value == friendly_length(fit.kv_cache_tokens)
    assert (
        fit.kv_cache_tokens * 2 // 3 <= fix.value <= fit.kv_cache_tokens
    )  # friendly, not wasteful
    applied = estimate(
        model,
        replace(request, max_model_len=fix.value),
        dtype_parameters=QWEN3_8B["dtype_parameters"],
    )
    assert applied.fits


def test_fp8_kv_cache_doubles_the_tokens_and_the_fix_offers_it() -> None:
    model = shape(QWEN3_8B["config"])
    request = replace(request_for(QWEN3_8B), max_model_len=None, utilization=0.9)
    plain = estimate(model, request, dtype_parameters=QWEN3_8B["dtype_parameters"])
    assert "--kv-cache-dtype" in [f.flag for f in plain.fixes]
    fp8 = estimate(
        model, replace(request, kv_cache_dtype="fp8"), dtype_parameters=QWEN3_8B["dtype_parameters"]
    )
    assert fp8.kv_cache_tokens == pytest.approx(2 * (plain.kv_cache_tokens or 0), rel=0.001)
    assert fp8.fits


def test_enforce_eager_gives_the_cuda_graph_memory_back_to_the_cache() -> None:
    model = shape(QWEN3_8B["config"])
    graphs = estimate(model, request_for(QWEN3_8B), dtype_parameters=QWEN3_8B["dtype_parameters"])
    eager = estimate(
        model, replace(request_for(QWEN3_8B), enforce_eager=True),
        dtype_parameters=QWEN3_8B["dtype_parameters"],
    )  # fmt: skip
    assert graphs.budget.cuda_graphs / GIB == pytest.approx(0.52, abs=0.01)
    assert eager.budget.cuda_graphs == 0
    assert eager.budget.kv_cache - graphs.budget.kv_cache == graphs.budget.cuda_graphs


def test_a_busy_gpu_is_a_note_beside_the_verdict() -> None:
    request = FitRequest(gpu_total_bytes=H100, gpu_free_bytes=int(40 * GIB), utilization=0.9)
    model = shape(LLAMA_8B["config"])
    fit = estimate(model, request, dtype_parameters=LLAMA_8B["dtype_parameters"])
    assert fit.fits  # the model fits the GPU ...
    assert fit.busy and "vLLM will refuse to start now" in fit.busy  # ... once it is free
    assert "40.0 GiB of 79.2 GiB is free" in fit.busy
    # A share of what is free (less the allocator's slack) still fits, and is offered.
    assert "at --gpu-memory-utilization 0.50 it fits what is free" in fit.busy
    assert fit.fixes[0].flag == "--gpu-memory-utilization" and fit.fixes[0].value == 0.5
    idle = estimate(model, replace(request, gpu_free_bytes=None))
    assert idle.busy is None


def test_a_busy_gpu_names_its_holders_and_offers_a_free_one() -> None:
    request = FitRequest(
        gpu_total_bytes=H100,
        gpu_free_bytes=int(3 * GIB),
        gpu_holders=("vtui-other 75.0 GiB on GPU 0",),
        free_elsewhere=((1, int(10 * GIB)), (2, int(79 * GIB))),
    )
    fit = estimate(
        shape(LLAMA_8B["config"]), request, dtype_parameters=LLAMA_8B["dtype_parameters"]
    )
    assert fit.busy and "(vtui-other 75.0 GiB on GPU 0)" in fit.busy
    # GPU 1 has too little free; GPU 2 has vLLM's whole share. 3 GiB holds no share.
    assert [(f.flag, f.value) for f in fit.fixes] == [("gpus", "2")]
    assert "GPU 2 is free" in fit.busy


def test_few_concurrent_requests_is_a_fit_with_a_warning() -> None:
    request = FitRequest(gpu_total_bytes=int(23.53 * GIB), utilization=0.9, max_model_len=16384)
    fit = estimate(
        shape(QWEN3_8B["config"]), request, dtype_parameters=QWEN3_8B["dtype_parameters"]
    )
    assert fit.verdict is Verdict.FEW_REQUESTS and fit.fits
    assert fit.max_concurrency is not None and fit.max_concurrency < 4
    assert "requests of 16,384 tokens" in fit.advice[0]


# ---- inputs -----------------------------------------------------------------------------


def test_a_config_that_is_not_a_language_model_names_the_missing_field() -> None:
    with pytest.raises(UnknownModel, match="hidden_size"):
        shape({"architectures": ["ResNetForImageClassification"], "num_hidden_layers": 50})


def test_layouts_not_modelled_get_weights_but_an_unknown_kv_verdict() -> None:
    jamba = {
        "architectures": ["JambaForCausalLM"], "num_hidden_layers": 32, "hidden_size": 4096,
        "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,
        "vocab_size": 65536, "max_position_embeddings": 262144, "mamba_d_state": 16,
        "layers_block_type": (["mamba"] * 3 + ["attention"] + ["mamba"] * 4) * 4,
    }  # fmt: skip
    fit = estimate(shape(jamba), FitRequest(gpu_total_bytes=H100))
    assert fit.verdict is Verdict.UNKNOWN and not fit.fits
    assert fit.unknown_reason and "not modelled" in fit.unknown_reason
    assert fit.budget.weights > 10 * GIB  # the weights are still counted


def test_max_model_len_is_derived_as_vllm_derives_it() -> None:
    assert max_model_len(LLAMA_8B["config"]) == 131072  # llama3 rope keeps the length
    linear = {"max_position_embeddings": 4096, "rope_scaling": {"type": "linear", "factor": 4.0}}
    assert max_model_len(linear) == 16384
    assert max_model_len({"max_position_embeddings": 8192, "seq_length": 4096}) == 4096
    assert max_model_len({"hidden_size": 1}) is None


def test_weights_counted_from_config_alone_follow_the_quantization() -> None:
    bf16 = shape(LLAMA_8B["config"])
    counted, measured = estimated_weight_bytes(bf16)
    assert not measured
    assert counted / GIB == pytest.approx(14.96, rel=0.02)  # 8.03 B parameters
    awq = shape({**LLAMA_8B["config"], "quantization_config": {"quant_method": "awq", "bits": 4}})
    assert awq.quantization.method == "awq" and awq.quantization.bits == 4
    four_bit, _ = estimated_weight_bytes(awq)
    # 4-bit linear layers plus half-precision embeddings: about 5.7 GB for Llama-3.1-8B-AWQ
    assert 5.0 < four_bit / GIB < 6.0


def test_friendly_lengths() -> None:
    assert friendly_length(40000) == 32768
    assert friendly_length(50000) == 49152
    assert friendly_length(131072) == 131072
    assert friendly_length(20) == 16


def test_a_fit_at_vllms_defaults_uses_vllms_own_default_utilization() -> None:
    """vLLM 0.26 and 0.33 default --gpu-memory-utilization to 0.92 (the catalogue, read from
    vLLM's parser): an estimate "at vLLM's defaults" that took 0.9 was 2.4% low on a live
    server for exactly this reason."""
    from vtui.core.fit import DEFAULT_UTILIZATION
    from vtui.core.vllm_args import CATALOGUE

    assert DEFAULT_UTILIZATION == CATALOGUE["--gpu-memory-utilization"].default == 0.92
    assert FitRequest(gpu_total_bytes=H100).utilization == 0.92
    at_default = estimate(shape(LLAMA_70B_CONFIG), FitRequest(gpu_total_bytes=H100, gpu_count=8),
                          dtype_parameters={"BF16": 70_553_706_496})  # fmt: skip
    assert at_default.budget.requested == math.ceil(H100 * 0.92)


GEMMA2 = next(r for r in ROWS if r["model"] == "google/gemma-2-9b-it")


def test_a_max_model_len_beyond_the_models_positions_is_refused_not_fits() -> None:
    """gemma-2-9b holds 8,192 positions; vLLM 0.26 refused 32,768 on the H200 ("User-
    specified max_model_len (32768) is greater than the derived max_model_len"), where the
    estimate had said "fits, 400,805 tokens"."""
    model = shape(GEMMA2["config"])
    request = replace(request_for(GEMMA2), max_model_len=32768)
    fit = estimate(model, request, dtype_parameters=GEMMA2.get("dtype_parameters"))
    assert fit.verdict is Verdict.REFUSED and not fit.fits and short_verdict(fit) == "refused"
    assert "vLLM refuses --max-model-len 32,768: the model holds 8,192 positions" in fit.summary
    assert fit.fixes[0].flag == "--max-model-len" and fit.fixes[0].value == 8192
    fixed = estimate(model, replace(request, max_model_len=8192),
                     dtype_parameters=GEMMA2.get("dtype_parameters"))  # fmt: skip
    assert fixed.fits


@pytest.mark.parametrize("tp", [3, 5])
def test_a_tensor_parallel_size_that_does_not_divide_the_heads_is_refused(tp: int) -> None:
    """Llama-3.3-70B has 64 attention heads; vLLM refuses -tp 3 or -tp 5."""
    model = shape(LLAMA_70B_CONFIG)
    request = FitRequest(gpu_total_bytes=H100, gpu_count=8, tensor_parallel=tp)
    fit = estimate(model, request, dtype_parameters={"BF16": 70_553_706_496})
    assert fit.verdict is Verdict.REFUSED and not fit.fits
    assert (
        f"--tensor-parallel-size {tp}: it must divide the model's 64 attention heads"
        in (fit.advice[0])
    )
    assert fit.fixes[0].flag == "--tensor-parallel-size" and fit.fixes[0].value == 8
