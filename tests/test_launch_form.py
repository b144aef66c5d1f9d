"""The Launch form's texts and the LaunchSpec agree both ways."""

from __future__ import annotations

import pytest

from vtui.core.launch_form import form_groups, spec_from_texts, texts_from_spec
from vtui.core.launch_spec import LaunchSpec
from vtui.core.vllm_args import FORM_FLAGS

SPEC = LaunchSpec(
    name="p",
    model="/data/models/x",
    gpus=(0, 2),
    port=8123,
    host="0.0.0.0",
    served_model_name="x",
    extra_args=("--max-logprobs", "5"),
    args={
        "--max-model-len": 8192,
        "--gpu-memory-utilization": 0.8,
        "--enforce-eager": True,
        "--enable-prefix-caching": False,
        "--limit-mm-per-prompt": {"image": 1},
        "--dtype": "bfloat16",
    },
)


def test_texts_read_back_to_the_same_spec() -> None:
    spec, problems = spec_from_texts(SPEC, texts_from_spec(SPEC))
    assert problems == []
    assert spec == SPEC


def test_clearing_a_field_hands_the_choice_back_to_vllm() -> None:
    texts = texts_from_spec(SPEC) | {"--max-model-len": "", "gpus": "all"}
    spec, _ = spec_from_texts(SPEC, texts)
    assert "--max-model-len" not in spec.args and spec.gpus == "all"


@pytest.mark.input_check("form-fields")
def test_unreadable_texts_are_problems_of_their_field() -> None:
    texts = texts_from_spec(SPEC) | {
        "--max-model-len": "long",
        "gpus": "0,x",
        "--port": "http",
        "extra": "--a 'open",
    }
    _, problems = spec_from_texts(SPEC, texts)
    assert {p.field for p in problems} == {"--max-model-len", "gpus", "--port", "extra"}


def test_the_form_shows_every_catalogue_form_flag_once() -> None:
    keys = [f.key for _, fields in form_groups() for f in fields]
    assert len(keys) == len(set(keys))
    assert set(FORM_FLAGS) <= set(keys)
    assert {"model", "image", "gpus", "extra"} <= set(keys)


def test_a_bad_choice_lists_a_handful_of_the_nearest_values_and_json_says_where_it_breaks() -> None:
    import pytest as _pytest

    from vtui.core.arg_values import parse_value
    from vtui.core.vllm_args import CATALOGUE, lookup

    dtype = lookup("--dtype")
    assert dtype is not None and dtype.choices is not None and len(dtype.choices) > 5
    with _pytest.raises(ValueError) as bad:
        parse_value(dtype, "bfloat61")
    words = str(bad.value)
    assert words.startswith("expected one of bfloat16") and "more: see the help box" in words
    assert words.count(",") <= 4 and "\n" not in words
    json_arg = next(spec for spec in CATALOGUE.values() if spec.kind == "json")
    with _pytest.raises(ValueError) as broken:
        parse_value(json_arg, '{"a": }')
    assert "Expecting" not in str(broken.value) and "character 7" in str(broken.value)
