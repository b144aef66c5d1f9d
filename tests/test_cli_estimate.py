"""`vtui estimate` as a user runs it: a config.json, a model directory, the Hub on loopback."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.hub_server import GATED, hub_server

DATA = Path(__file__).parent / "data"
LLAMA = next(
    r for r in json.loads((DATA / "fit_rows.json").read_text()) if "Llama-3.1" in r["model"]
)


def vtui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vtui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def write_config(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def test_a_config_json_and_a_given_gpu_give_numbers_and_a_verdict(tmp_path: Path) -> None:
    config = write_config(tmp_path, LLAMA["config"])
    done = vtui("estimate", str(config), "--gpu-mem-gib", "79.19", "--max-model-len", "32K")
    assert done.returncode == 0, done.stderr
    assert "weights counted from config.json" in done.stdout
    assert "verdict: fits" in done.stdout
    assert "requests of 32,768 tokens at once" in done.stdout


def test_a_hybrid_model_says_which_layers_its_token_count_stands_for(tmp_path: Path) -> None:
    gemma = next(
        r for r in json.loads((DATA / "fit_rows.json").read_text()) if "gemma-3" in r["model"]
    )
    config = write_config(tmp_path, gemma["config"])
    done = vtui("estimate", str(config), "--gpu-mem-gib", "79.19", "--max-model-len", "128k")
    assert done.returncode == 0, done.stderr
    assert "layers: 8 full-attention + 40 sliding-window (1,024 tokens) layers" in done.stdout
    assert "verdict: fits" in done.stdout
    data = json.loads(vtui("estimate", str(config), "--gpu-mem-gib", "79.19", "--json").stdout)
    assert data["hybrid_layers"].startswith("8 full-attention")
    assert data["max_concurrency"] > 1


def test_json_has_the_fields_scripts_read(tmp_path: Path) -> None:
    config = write_config(tmp_path, LLAMA["config"])
    done = vtui("estimate", str(config), "--gpu-mem-gib", "79.19", "--json")
    data = json.loads(done.stdout)
    for key in ("weights_gib_per_gpu", "kv_cache_gib_per_gpu", "kv_cache_tokens",
                "max_concurrency", "fits", "advice"):  # fmt: skip
        assert key in data
    assert data["fits"] is True
    assert data["max_model_len"] == 131072  # the model's own maximum when none is given
    assert data["weights_gib_per_gpu"] == pytest.approx(14.96, abs=0.3)
    assert data["kv_cache_tokens"] == pytest.approx(71.27 * 1024**3 * 0.8 / 131072, rel=0.15)


def test_too_small_a_gpu_says_what_to_change(tmp_path: Path) -> None:
    config = write_config(tmp_path, LLAMA["config"])
    done = vtui("estimate", str(config), "--gpu-mem-gib", "23.6", "--json")
    data = json.loads(done.stdout)
    assert data["fits"] is False and data["verdict"] == "max-model-len too large"
    assert data["fixes"][0]["flag"] == "--max-model-len"
    assert any("--max-model-len" in line for line in data["advice"])


def write_safetensors(path: Path, tensors: dict[str, tuple[str, list[int]]]) -> None:
    """A real safetensors file: u64 header length, JSON header, then the (zero) data."""
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        size = 2 if dtype == "BF16" else 4
        n = 1
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n * size]}
        offset += n * size
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * offset)


def test_a_model_directory_is_weighed_from_its_safetensors_headers(tmp_path: Path) -> None:
    tiny = {**LLAMA["config"], "num_hidden_layers": 2, "hidden_size": 256,
            "intermediate_size": 512, "num_attention_heads": 4, "num_key_value_heads": 2,
            "vocab_size": 1000, "max_position_embeddings": 2048}  # fmt: skip
    write_config(tmp_path, tiny)
    tensors = {"embed": ("BF16", [1000, 256]), "layers": ("BF16", [2, 600_000])}
    write_safetensors(tmp_path / "model.safetensors", tensors)
    done = vtui("estimate", str(tmp_path), "--gpu-mem-gib", "16", "--json")
    data = json.loads(done.stdout)
    assert data["weights_from"] == "tensor sizes"
    assert data["model_source"] == f"directory {tmp_path}"
    expected = (1000 * 256 + 1_200_000) * 2 / 1024**3
    assert data["weights_gib_per_gpu"] == pytest.approx(expected, abs=0.01)


def test_a_hub_model_is_read_from_its_config_and_metadata_alone(tmp_path: Path) -> None:
    with hub_server() as hub:
        env = {
            "HF_ENDPOINT": hub.url,
            "HF_HOME": str(tmp_path / "hf"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }
        done = vtui("estimate", "Qwen/Qwen3-8B", "--gpu-mem-gib", "79.19", "--json", env=env)
        paths = [path for path, _ in hub.requests]
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["model_source"] == "Hub" and data["weights_from"] == "tensor sizes"
    assert data["weights_gib_per_gpu"] == pytest.approx(15.26, abs=0.05)
    assert data["max_model_len"] == 40960
    assert "/api/models/Qwen/Qwen3-8B" in paths
    assert any(p.endswith("/resolve/main/config.json") for p in paths)
    # Only config.json was fetched: no weights, into the shared HF cache.
    cached = list((tmp_path / "hf" / "hub").rglob("config.json"))
    assert cached and not list((tmp_path / "hf").rglob("*.safetensors"))


@pytest.mark.fault("hub-gated")
def test_a_gated_model_says_how_to_get_access(tmp_path: Path) -> None:
    with hub_server() as hub:
        env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf")}
        done = vtui("estimate", GATED, "--gpu-mem-gib", "80", env=env)
    assert done.returncode == 1
    assert "is gated" in done.stderr and "hf auth login" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_config_that_is_not_a_language_model_is_refused_by_name(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"architectures": ["ResNetForImageClassification"],
                                     "num_hidden_layers": 50})  # fmt: skip
    done = vtui("estimate", str(config), "--gpu-mem-gib", "80")
    assert done.returncode == 1
    assert "hidden_size" in done.stderr and "Traceback" not in done.stderr


def test_bad_options_are_named(tmp_path: Path) -> None:
    done = vtui("estimate", "x", "--gpu-memory-utilization", "1.5")
    assert done.returncode == 2 and "--gpu-memory-utilization" in done.stderr
    done = vtui("estimate", "x", "--max-model-len", "lots")
    assert done.returncode == 2 and "--max-model-len" in done.stderr
    done = vtui("estimate", str(tmp_path / "missing"), "--gpu-mem-gib", "80")
    assert done.returncode == 1 and "does not exist" in done.stderr


def test_no_gpu_and_no_size_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("pynvml")
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        pass
    else:
        pytest.skip("this machine has NVML: the estimate reads its GPUs")
    config = write_config(tmp_path, LLAMA["config"])
    done = vtui("estimate", str(config))
    assert done.returncode == 1
    assert "give --gpu-mem-gib" in done.stderr


def test_max_model_len_auto_picks_the_longest_that_fits_and_says_what_limits_it(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, LLAMA["config"])
    roomy = vtui("estimate", str(config), "--gpu-mem-gib", "79.2", "--max-model-len", "auto")
    assert roomy.returncode == 0, roomy.stderr
    assert "max-model-len auto: 131,072, set by the model's own 131,072 positions" in roomy.stdout
    tight = vtui(
        "estimate", str(config), "--gpu-mem-gib", "23.6", "--max-model-len", "auto", "--json"
    )
    answer = json.loads(tight.stdout)
    length = answer["max_model_len"]
    assert length % 1024 == 0 and 1024 <= length < 131_072
    assert "set by the KV cache" in answer["max_model_len_auto"]
    assert answer["fits"] and answer["max_concurrency"] >= 1.0  # one request of it fits
    longer = vtui(
        "estimate", str(config), "--gpu-mem-gib", "23.6", "--max-model-len", str(length + 1024),
        "--json",
    )  # fmt: skip
    assert json.loads(longer.stdout)["verdict"] == "max-model-len too large"


def test_an_unknown_model_is_named_once() -> None:
    from tests.support.helpers import run_vtui

    out = run_vtui("--demo", "estimate", "nosuch/model")
    assert out.returncode == 1
    assert out.stderr.count("nosuch/model") == 1, out.stderr
    assert "no such model" in out.stderr
