"""The argument catalogue is vLLM's own, for the release vtui pins."""

from __future__ import annotations

import pytest

from vtui.core.vllm_args import (
    CATALOGUE,
    FORM_FLAGS,
    FORM_GROUPS,
    VLLM_ARGS_VERSION,
    lookup,
    nearest,
)
from vtui.core.vllm_release import DEFAULT_IMAGE, VLLM_VERSION


@pytest.mark.security("image-pinned")
def test_catalogue_and_image_follow_the_pinned_release() -> None:
    assert VLLM_ARGS_VERSION == VLLM_VERSION
    assert f"vllm/vllm-openai:v{VLLM_VERSION}" == DEFAULT_IMAGE
    assert not DEFAULT_IMAGE.endswith(":latest")


def test_every_form_field_is_a_real_vllm_argument_with_help() -> None:
    assert len(FORM_FLAGS) == len(set(FORM_FLAGS))
    for flag in FORM_FLAGS:
        assert flag in CATALOGUE, flag
        assert CATALOGUE[flag].help, flag
    assert [g for g, _ in FORM_GROUPS] == [
        "Model",
        "Memory",
        "Parallelism",
        "Scheduling",
        "Serving and security",
        "Tools and reasoning",
    ]


def test_the_catalogue_knows_vllms_kinds_choices_and_negations() -> None:
    assert len(CATALOGUE) > 250
    assert CATALOGUE["--max-model-len"].kind == "int"
    assert CATALOGUE["--gpu-memory-utilization"].kind == "float"
    assert CATALOGUE["--limit-mm-per-prompt"].kind == "json"
    assert CATALOGUE["--served-model-name"].many
    assert "bfloat16" in (CATALOGUE["--dtype"].choices or ())
    assert "awq" in (CATALOGUE["--quantization"].suggested or ())
    assert "fp8" in (CATALOGUE["--kv-cache-dtype"].suggested or ())
    assert CATALOGUE["--enable-prefix-caching"].negative_flag == "--no-enable-prefix-caching"
    assert lookup("-tp") is CATALOGUE["--tensor-parallel-size"]
    assert lookup("--no-enforce-eager") is CATALOGUE["--enforce-eager"]
    assert lookup("--max-model-len=4096") is CATALOGUE["--max-model-len"]
    assert lookup("--no-such-flag") is None


def test_a_mistyped_flag_gets_the_nearest_real_one() -> None:
    assert nearest("--max-model-length") == "--max-model-len"
    assert nearest("--tensor-paralel-size") == "--tensor-parallel-size"
    assert nearest("gpu-memory-utilisation") == "--gpu-memory-utilization"
    assert nearest("--zzzz") is None
