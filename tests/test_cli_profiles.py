"""`vtui profile` and `vtui compose`, run as a person runs them."""

from __future__ import annotations

import shlex
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.helpers import run_vtui
from vtui.core.renderings import KEY_GUARD


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config"


def vtui(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_vtui(*args, config=config)


def new_qwen(config: Path) -> None:
    out = vtui(
        config,
        "profile",
        "new",
        "qwen",
        "--model",
        "Qwen/Qwen3-8B",
        "--port",
        "18431",
        "--",
        "--max-model-len",
        "32k",
        "--trust-remote-code",
    )
    assert out.returncode == 0, out.stderr


def test_new_profile_reads_vllm_arguments_as_vllm_writes_them(config: Path) -> None:
    new_qwen(config)
    text = (config / "vtui" / "profiles" / "qwen.toml").read_text()
    assert "max-model-len = 32000" in text and "trust-remote-code = true" in text
    key = config / "vtui" / "keys" / "qwen.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    listed = vtui(config, "profile", "list")
    assert "qwen" in listed.stdout and "127.0.0.1:18431" in listed.stdout


def test_a_mistyped_argument_is_refused_with_the_nearest_one(config: Path) -> None:
    out = vtui(
        config,
        "profile",
        "new",
        "bad",
        "--model",
        "m/m",
        "--",
        "--max-model-length",
        "4096",
        "--gpu-memory-utilization",
        "1.5",
    )
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert (
        "vtui: bad: --max-model-length: not a vLLM argument; did you mean --max-model-len?" in lines
    )
    assert "not created" in lines[-1]
    assert not (config / "vtui" / "profiles" / "bad.toml").exists()


@pytest.mark.security("api-key-by-env")
def test_compose_prints_a_file_without_the_key(config: Path) -> None:
    new_qwen(config)
    out = vtui(config, "compose", "qwen")
    assert out.returncode == 0, out.stderr
    service = yaml.safe_load(out.stdout)["services"]["vllm"]
    assert service["ports"] == ["127.0.0.1:18431:8000"]
    key = (config / "vtui" / "keys" / "qwen.key").read_text().strip()
    assert key not in out.stdout and key not in out.stderr


@pytest.mark.security("atomic-private-files")
def test_compose_to_a_file_writes_a_private_env_beside_it(config: Path, tmp_path: Path) -> None:
    new_qwen(config)
    target = tmp_path / "deploy" / "docker-compose.yml"
    out = vtui(config, "compose", "qwen", "-o", str(target))
    assert out.returncode == 0, out.stderr
    env_file = target.parent / ".env"
    key = (config / "vtui" / "keys" / "qwen.key").read_text().strip()
    assert env_file.read_text() == f"VLLM_API_KEY={key}\n"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert key not in target.read_text() and key not in out.stdout


def test_other_formats_print_one_shell_line(config: Path) -> None:
    new_qwen(config)
    run = vtui(config, "compose", "qwen", "--format", "run")
    # The line starts with the shell's refusal to run without VLLM_API_KEY exported.
    assert run.stdout.startswith(KEY_GUARD)
    argv = shlex.split(run.stdout.removeprefix(KEY_GUARD))
    assert argv[:3] == ["docker", "run", "-d"] and "--trust-remote-code" in argv
    assert "export VLLM_API_KEY" in run.stderr
    serve_line = vtui(config, "compose", "qwen", "--format", "serve").stdout
    serve = shlex.split(serve_line.removeprefix(KEY_GUARD))
    assert serve[:3] == ["vllm", "serve", "Qwen/Qwen3-8B"]
    assert serve[serve.index("--port") + 1] == "18431"


def test_problems_stop_compose_one_line_each(config: Path) -> None:
    new_qwen(config)
    path = config / "vtui" / "profiles" / "qwen.toml"
    path.write_text(
        path.read_text().replace(
            "trust-remote-code = true",
            "trust-remote-code = true\ngpu-memory-utilization = 2.0\ntensor-parallel-sized = 2",
        )
    )
    out = vtui(config, "compose", "qwen")
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        "vtui: qwen: --tensor-parallel-sized: not a vLLM argument; "
        "did you mean --tensor-parallel-size?",
        "vtui: qwen: --trust-remote-code: caution: runs Python code from the model's repo "
        "inside the container, with the container's access to your GPUs and HF cache; "
        "read the repo's code first.",
    ]


@pytest.mark.fault("corrupt-profile")
def test_missing_and_broken_profiles_are_named(config: Path) -> None:
    out = vtui(config, "compose", "nope")
    assert out.returncode == 1 and "nope.toml: no such profile" in out.stderr
    new_qwen(config)
    path = config / "vtui" / "profiles" / "qwen.toml"
    path.write_text(path.read_text() + "\nport = [\n")
    out = vtui(config, "profile", "show", "qwen")
    assert out.returncode == 1
    assert "qwen.toml:" in out.stderr and "Traceback" not in out.stderr
