"""Compose itself accepts vtui's files and reads back the exact arguments, `$` included."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from vtui.core.launch_spec import LaunchSpec, vllm_arguments
from vtui.core.renderings import render_compose
from vtui.core.yaml_text import compose_unescape

SPECS = [
    LaunchSpec(name="hub", model="Qwen/Qwen3-8B", hf_cache="/root/.cache/huggingface"),
    LaunchSpec(
        name="local",
        model="/data/models/Qwen3-8B-AWQ",
        gpus=(0, 1),
        host="0.0.0.0",
        port=8443,
        env={"PRICE": "$5 # not a comment", "QUOTE": 'it\'s "fine": {ok}'},
        args={
            "--tensor-parallel-size": 2,
            "--chat-template": "{{ $x }}\nline two",
            "--limit-mm-per-prompt": {"image": 2},
            "--enforce-eager": True,
        },
        extra_args=("--max-logprobs", "5"),
    ),
]


@pytest.fixture(scope="module")
def compose_binary() -> str:
    found = shutil.which("docker-compose")
    if not found:
        reason = "docker-compose is not installed (scripts/test-engine.sh installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


COMPOSE_TOKEN = "hf_resolvedByComposeFromTheShell"


def compose_config(
    binary: str, directory: Path, key: str | None
) -> subprocess.CompletedProcess[str]:
    # `config` prints the environment it resolved, HF_TOKEN's value included: a token of
    # this test's own shows the pass-by-name works without the run's planted one in print.
    env = {k: v for k, v in os.environ.items() if k != "VLLM_API_KEY"}
    env["HF_TOKEN"] = COMPOSE_TOKEN
    if key:
        (directory / ".env").write_text(f"VLLM_API_KEY={key}\n")
    return subprocess.run(
        [binary, "config"], cwd=directory, capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_compose_accepts_the_file_and_resolves_the_exact_command(
    compose_binary: str, tmp_path: Path, spec: LaunchSpec
) -> None:
    (tmp_path / "docker-compose.yml").write_text(render_compose(spec))
    out = compose_config(compose_binary, tmp_path, key="s3cret-key")
    assert out.returncode == 0, out.stderr
    # `config` prints a Compose file again, so its own output doubles '$' once more.
    resolved = yaml.safe_load(out.stdout)["services"]["vllm"]
    assert [compose_unescape(t) for t in resolved["command"]] == vllm_arguments(
        spec, in_container=True
    )
    assert resolved["environment"]["VLLM_API_KEY"] == "s3cret-key"
    assert resolved["environment"]["HF_TOKEN"] == COMPOSE_TOKEN  # from the shell, by name
    for name, value in spec.env.items():
        assert compose_unescape(resolved["environment"][name]) == value


@pytest.mark.security("api-key-by-env")
def test_compose_refuses_to_start_without_the_key(compose_binary: str, tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(render_compose(SPECS[0]))
    out = compose_config(compose_binary, tmp_path, key=None)
    assert out.returncode != 0
    assert "set VLLM_API_KEY" in out.stderr
