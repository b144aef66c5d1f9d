"""Validation names the field and says what to do, before anything is launched."""

from __future__ import annotations

import pytest

from vtui.core.arg_values import format_value, parse_value
from vtui.core.launch_checks import HostFacts, ModelFacts, check, split_extra
from vtui.core.launch_spec import LaunchSpec
from vtui.core.vllm_args import CATALOGUE

GOOD = LaunchSpec(
    name="qwen",
    model="Qwen/Qwen3-8B",
    gpus=(0, 1),
    args={"--tensor-parallel-size": 2, "--gpu-memory-utilization": 0.9},
)
TWO_GPUS = HostFacts(gpu_count=2, compute_capability=(9, 0))


def problems(
    spec: LaunchSpec, host: HostFacts = TWO_GPUS, model: ModelFacts | None = None
) -> dict[str, str]:
    return {p.field: p.message for p in check(spec, host, model)}


def with_args(**args: object) -> LaunchSpec:
    merged = dict(GOOD.args) | {"--" + k.replace("_", "-"): v for k, v in args.items()}
    return LaunchSpec(name=GOOD.name, model=GOOD.model, gpus=GOOD.gpus, args=merged)


def test_a_sound_spec_has_no_problems() -> None:
    assert check(GOOD, TWO_GPUS, ModelFacts(num_attention_heads=32)) == []


@pytest.mark.parametrize("util", [0, -0.1, 1.01, 90])
def test_utilization_must_be_a_fraction(util: float) -> None:
    assert (
        "at most 1" in problems(with_args(gpu_memory_utilization=util))["--gpu-memory-utilization"]
    )


def test_parallelism_cannot_exceed_the_chosen_gpus() -> None:
    found = problems(with_args(tensor_parallel_size=2, pipeline_parallel_size=2))
    assert "= 4, but only 2 GPUs are chosen" in found["--tensor-parallel-size"]


def test_tensor_parallel_must_divide_the_heads() -> None:
    spec = LaunchSpec(name="m", model="m/m", args={"--tensor-parallel-size": 3})
    found = problems(spec, HostFacts(gpu_count=8), ModelFacts(num_attention_heads=28))
    assert "28 attention heads; try 2, 4, 7" in found["--tensor-parallel-size"]


def test_port_range_and_ports_already_taken() -> None:
    assert "1-65535" in problems(LaunchSpec(name="p", model="m/m", port=70000))["--port"]
    taken = HostFacts(ports_in_use=frozenset({8000}))
    assert "already in use" in problems(LaunchSpec(name="p", model="m/m"), taken)["--port"]


def test_max_model_len_beyond_positions_unless_rope_scaling() -> None:
    spec = with_args(max_model_len=65536)
    assert (
        "beyond the model's 32768"
        in problems(spec, model=ModelFacts(max_position_embeddings=32768))["--max-model-len"]
    )
    assert check(spec, TWO_GPUS, ModelFacts(max_position_embeddings=32768, rope_scaling=True)) == []


def test_incompatible_pairs() -> None:
    assert "float16 only" in problems(with_args(quantization="awq", dtype="bfloat16"))["--dtype"]
    older = HostFacts(gpu_count=2, compute_capability=(8, 0))
    assert "Ada or Hopper" in problems(with_args(kv_cache_dtype="fp8"), older)["--kv-cache-dtype"]
    assert check(with_args(kv_cache_dtype="fp8"), TWO_GPUS) == []


def test_unknown_flags_get_the_nearest_known_one() -> None:
    extra = LaunchSpec(name="p", model="m/m", extra_args=("--max-model-length", "4096"))
    assert problems(extra)["extra"] == (
        "unknown vLLM argument --max-model-length; did you mean --max-model-len?"
    )
    in_args = LaunchSpec(name="p", model="m/m", args={"--gpu-memory-utilisation": 0.9})
    assert "did you mean --gpu-memory-utilization?" in problems(in_args)["--gpu-memory-utilisation"]
    own = LaunchSpec(name="p", model="m/m", extra_args=("--port", "9000"))
    assert "own field" in problems(own)["extra"]


@pytest.mark.input_check("form-fields")
def test_field_values_are_checked_against_their_kind() -> None:
    found = problems(
        LaunchSpec(
            name="bad name!",
            model="",
            host="localhost",
            args={"--dtype": "bf17", "--max-num-seqs": "many"},
        )
    )
    assert set(found) >= {"name", "model", "--host", "--dtype", "--max-num-seqs"}
    assert "bfloat16" in found["--dtype"]


def test_gpus_that_do_not_exist() -> None:
    spec = LaunchSpec(name="p", model="m/m", gpus=(0, 4))
    assert problems(spec)["gpus"] == "GPU 4 does not exist: this machine has 2 (0-1)"
    # A profile edited by hand can hold what the form cannot type.
    negative = LaunchSpec(name="p", model="m/m", gpus=(-1,))
    assert problems(negative)["gpus"] == "GPU indices start at 0 (see the GPU screen)"


@pytest.mark.parametrize(
    ("flag", "text", "value"),
    [
        ("--max-model-len", "32k", 32000),
        ("--max-model-len", "32K", 32768),
        ("--gpu-memory-utilization", "0.85", 0.85),
        ("--trust-remote-code", "on", True),
        ("--limit-mm-per-prompt", '{"image": 2}', {"image": 2}),
        ("--served-model-name", "a b", ["a", "b"]),
        ("--dtype", "", None),
    ],
)
def test_text_parses_by_kind_and_formats_back(flag: str, text: str, value: object) -> None:
    arg = CATALOGUE[flag]
    assert parse_value(arg, text) == value
    assert parse_value(arg, format_value(arg, value)) == value


@pytest.mark.parametrize(
    ("flag", "text"),
    [
        ("--max-model-len", "lots"),
        ("--max-model-len", "1.5"),
        ("--gpu-memory-utilization", "ninety"),
        ("--limit-mm-per-prompt", "{image: 2"),
        ("--dtype", "bf17"),
        ("--enforce-eager", "maybe"),
    ],
)
@pytest.mark.input_check("form-fields")
def test_bad_text_is_refused_with_what_was_expected(flag: str, text: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_value(CATALOGUE[flag], text)


def test_extra_arguments_split_like_a_shell() -> None:
    assert split_extra("--max-logprobs 5 --override-generation-config '{\"a\": 1}'") == (
        "--max-logprobs",
        "5",
        "--override-generation-config",
        '{"a": 1}',
    )
    with pytest.raises(ValueError):
        split_extra("--x 'unbalanced")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5"])
@pytest.mark.security("open-host-caution")
def test_a_server_open_to_the_network_is_a_caution_that_names_the_unguarded_routes(
    host: str,
) -> None:
    spec = LaunchSpec(name="qwen", model="Qwen/Qwen3-8B", gpus=(0, 1), host=host, args=GOOD.args)
    (found,) = [p for p in check(spec, TWO_GPUS) if p.field == "--host"]
    assert found.caution and not found.blocks_launch
    assert host in found.message and "/invocations" in found.message
    assert str(found).startswith("--host: caution: ")
    for loopback in ("127.0.0.1", "::1", "127.0.0.2"):
        quiet = LaunchSpec(name="q", model="m", gpus=(0,), host=loopback)
        assert [p for p in check(quiet, TWO_GPUS) if p.field == "--host"] == []


@pytest.mark.security("trust-remote-code")
def test_trust_remote_code_on_is_a_caution_and_off_by_default() -> None:
    assert LaunchSpec(name="q", model="m").args.get("--trust-remote-code") in (None, False)
    (found,) = check(with_args(trust_remote_code=True), TWO_GPUS)
    assert found.field == "--trust-remote-code" and found.caution
    assert "read the repo's code first" in found.message
    assert check(with_args(trust_remote_code=False), TWO_GPUS) == []


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("vllm/vllm-openai:v0.33.0", True),
        ("registry.local:5000/vllm", False),  # the port is not a tag
        ("registry.local:5000/vllm:v1", True),
        ("vllm/vllm-openai", False),
        ("vllm/vllm-openai:latest", False),
        ("vllm/vllm-openai@sha256:" + "a" * 64, True),
        ("vllm/vllm-openai@sha256:short", False),
    ],
)
@pytest.mark.security("image-pinned")
def test_an_image_not_pinned_to_a_release_is_a_caution(image: str, pinned: bool) -> None:
    spec = LaunchSpec(name="q", model="m", gpus=(0,), image=image)
    cautioned = [p for p in check(spec, TWO_GPUS) if p.field == "image"]
    assert bool(cautioned) is not pinned
    assert all(p.caution and "pull" in p.message for p in cautioned)
    assert not [p for p in check(LaunchSpec(name="q", model="m"), TWO_GPUS) if p.caution]
    (empty,) = [p for p in check(LaunchSpec(name="q", model="m", image=" "), TWO_GPUS)]
    assert empty.field == "image" and not empty.caution and "name the vLLM image" in empty.message


def test_the_port_probe_answers_for_ports_that_cannot_exist() -> None:
    from vtui.backends.host.ports import port_in_use

    # The form hands it whatever was typed; the range check is the launch checks' to make.
    assert port_in_use("127.0.0.1", 70000) is False
    assert port_in_use("127.0.0.1", 0) is False
    assert port_in_use("not-an-address!", 8000) is False
