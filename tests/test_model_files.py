"""A model's config.json, found beside it or in the shared HF cache, feeds the launch checks."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.helpers import run_vtui
from vtui.backends.files.model_files import model_facts
from vtui.core.launch_checks import ModelFacts
from vtui.core.launch_spec import LaunchSpec
from vtui.core.model_config import facts_from_config

QWEN_CONFIG = {
    "architectures": ["Qwen2ForCausalLM"],
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "max_position_embeddings": 32768,
}


def test_facts_come_from_the_text_model_of_a_multimodal_config() -> None:
    gemma = {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "text_config": {
            "num_attention_heads": 32,
            "max_position_embeddings": 131072,
            "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
        },
    }
    assert facts_from_config(gemma) == ModelFacts(32, 131072, True)
    assert facts_from_config({"num_attention_heads": "x"}) == ModelFacts(None, None, False)


def test_config_is_found_in_a_local_directory_and_in_the_hf_cache(tmp_path: Path) -> None:
    local = tmp_path / "models" / "qwen"
    local.mkdir(parents=True)
    (local / "config.json").write_text(json.dumps(QWEN_CONFIG))
    assert model_facts(LaunchSpec(name="a", model=str(local))) == ModelFacts(28, 32768, False)

    cache = tmp_path / "hf"
    snapshot = cache / "hub" / "models--Qwen--Qwen2.5-7B-Instruct" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps(QWEN_CONFIG))
    spec = LaunchSpec(name="b", model="Qwen/Qwen2.5-7B-Instruct", hf_cache=str(cache))
    assert model_facts(spec) == ModelFacts(28, 32768, False)
    assert model_facts(LaunchSpec(name="c", model="Qwen/Other", hf_cache=str(cache))) is None


def test_the_cli_refuses_a_tensor_parallel_size_that_does_not_divide_the_heads(
    tmp_path: Path,
) -> None:
    model = tmp_path / "qwen"
    model.mkdir()
    (model / "config.json").write_text(json.dumps(QWEN_CONFIG))
    config = tmp_path / "config"

    def new_profile(*options: str) -> str:
        out = run_vtui(
            "profile", "new", "q", "--model", str(model), "--port", "18432", *options, config=config
        )
        assert out.returncode == 1
        return out.stderr

    assert "--tensor-parallel-size: must divide the model's 28 attention heads" in new_profile(
        "--gpus", "0,1,2", "--", "--tensor-parallel-size", "3"
    )
    assert "64000 is beyond the model's 32768 positions" in new_profile(
        "--", "--max-model-len", "64k"
    )
