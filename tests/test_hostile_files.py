"""The user's own files as an attacker (or a careless hand) may leave them: a secret flag in a
profile, a profile name with a newline, key files that are links, someone else's, or open to
others, folders open to others, and two vtuis creating the same profile at once."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vtui.backends.files.profile_store import ProfileStore
from vtui.core.errors import ProfileError
from vtui.core.launch_spec import LaunchSpec

TOKEN = "hf_FILEsecretFILEsecretFILEsecret"


def vtui(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(home), "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "vtui", *args], capture_output=True, text=True, timeout=60, env=env
    )


def written_text(root: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


@pytest.mark.attack("secret-flags")
@pytest.mark.parametrize(
    "tokens",
    [["--hf-token", TOKEN], [f"--hf-token={TOKEN}"], ["--api-key", TOKEN]],
    ids=["hf-token", "hf-token=", "api-key"],
)
def test_a_secret_flag_is_refused_when_a_profile_is_made(tmp_path: Path, tokens: list[str]) -> None:
    done = vtui(tmp_path, "profile", "new", "q", "--model", "Qwen/Qwen3-8B", "--", *tokens)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "HF_TOKEN" in done.stderr and "not created" in done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert not (tmp_path / "vtui" / "profiles" / "q.toml").exists()
    assert TOKEN not in written_text(tmp_path)


@pytest.mark.attack("secret-flags")
@pytest.mark.parametrize("section", ["vllm", "env"])
def test_a_secret_put_in_a_profile_by_hand_is_never_rendered(tmp_path: Path, section: str) -> None:
    profiles = tmp_path / "vtui" / "profiles"
    profiles.mkdir(parents=True, mode=0o700)
    line = f'hf-token = "{TOKEN}"' if section == "vllm" else f'HF_TOKEN = "{TOKEN}"'
    (profiles / "q.toml").write_text(f'model = "Qwen/Qwen3-8B"\n\n[{section}]\n{line}\n')
    for fmt in ("compose", "run", "serve"):
        out = tmp_path / f"out-{fmt}"
        done = vtui(tmp_path, "compose", "q", "--format", fmt, "-o", str(out))
        assert done.returncode == 1, (fmt, done.stdout, done.stderr)
        assert TOKEN not in done.stdout + done.stderr
        assert not out.exists()


@pytest.mark.attack("profile-names")
@pytest.mark.parametrize("name", ["q\n", "q\nx", "../q", ".hidden", "q/../../x", ""])
def test_a_profile_name_is_matched_whole(tmp_path: Path, name: str) -> None:
    store = ProfileStore(tmp_path)
    with pytest.raises(ProfileError):
        store.path(name)
    with pytest.raises(ProfileError):
        store.create(LaunchSpec(name=name, model="m"))
    assert not (tmp_path / "profiles").exists() or list((tmp_path / "profiles").iterdir()) == []


def _new_key_store(tmp_path: Path) -> tuple[ProfileStore, Path]:
    store = ProfileStore(tmp_path)
    store.api_key("q")
    return store, store.key_path("q")


@pytest.mark.attack("key-files")
def test_a_key_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    store, key = _new_key_store(tmp_path)
    target = tmp_path / "elsewhere.key"
    target.write_text("planted-key\n")
    target.chmod(0o600)
    key.unlink()
    key.symlink_to(target)
    with pytest.raises(ProfileError, match="symbolic link"):
        store.api_key("q")


@pytest.mark.attack("key-files")
def test_a_key_file_others_can_read_is_refused_with_the_fix(tmp_path: Path) -> None:
    store, key = _new_key_store(tmp_path)
    key.chmod(0o644)
    with pytest.raises(ProfileError, match="chmod 600"):
        store.api_key("q")


@pytest.mark.attack("key-files")
@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another user needs root")
def test_a_key_file_of_another_user_is_refused(tmp_path: Path) -> None:
    store, key = _new_key_store(tmp_path)
    os.chown(key, 12345, 12345)
    with pytest.raises(ProfileError, match="belongs to user 12345"):
        store.api_key("q")


@pytest.mark.attack("key-files")
def test_folders_of_secrets_left_open_are_closed(tmp_path: Path) -> None:
    store, _key = _new_key_store(tmp_path)
    store.keys_dir.chmod(0o755)
    store.api_key("q")
    assert store.keys_dir.stat().st_mode & 0o777 == 0o700


def _create(root: str, start: multiprocessing.synchronize.Event, results: object) -> None:
    start.wait()
    try:
        ProfileStore(Path(root)).create(LaunchSpec(name="race", model=f"m-{os.getpid()}"))
        results.put("created")  # type: ignore[attr-defined]
    except ProfileError:
        results.put("refused")  # type: ignore[attr-defined]


@pytest.mark.attack("key-files")
def test_two_vtuis_creating_one_profile_at_once_get_one_profile(tmp_path: Path) -> None:
    for attempt in range(5):
        root = tmp_path / str(attempt)
        context = multiprocessing.get_context("fork")
        start, results = context.Event(), context.Queue()
        workers = [context.Process(target=_create, args=(str(root), start, results))
                   for _ in range(4)]  # fmt: skip
        for worker in workers:
            worker.start()
        start.set()
        for worker in workers:
            worker.join(30)
        outcomes = sorted(results.get(timeout=5) for _ in workers)
        assert outcomes == ["created", "refused", "refused", "refused"], outcomes
        # The one created is whole and its own: it loads.
        assert ProfileStore(root).load("race").model.startswith("m-")


@pytest.mark.attack("secret-flags")
@pytest.mark.parametrize("fmt", ["run", "serve"])
def test_a_rendered_line_refuses_to_start_a_server_without_the_key(
    tmp_path: Path, fmt: str
) -> None:
    """The line, run by a real shell with stand-ins for docker and vllm that record their
    argv: without VLLM_API_KEY exported nothing starts; with it, the server starts."""
    from vtui.core.renderings import render_docker_run, render_vllm_serve

    spec = LaunchSpec(name="q", model="Qwen/Qwen3-8B")
    line = render_docker_run(spec) if fmt == "run" else render_vllm_serve(spec)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("docker", "vllm"):
        stand_in = bin_dir / tool
        stand_in.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/{tool}.argv\n')
        stand_in.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    refused = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "export VLLM_API_KEY first" in refused.stderr
    assert not list(tmp_path.glob("*.argv"))
    started = subprocess.run(
        ["bash", "-c", line], env={**env, "VLLM_API_KEY": "k"}, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    assert len(list(tmp_path.glob("*.argv"))) == 1


def _safetensors(header: bytes) -> bytes:
    import struct

    return struct.pack("<Q", len(header)) + header


HOSTILE_CHECKPOINTS = {
    "nested header": _safetensors(b"[" * 100_000 + b"]" * 100_000),
    "header not an object": _safetensors(b"[1, 2]"),
    "shape of strings": _safetensors(b'{"w": {"dtype": "BF16", "shape": ["x", 2]}}'),
    "negative shape": _safetensors(b'{"w": {"dtype": "BF16", "shape": [-4, 2]}}'),
    "header longer than the file": b"\xff" * 8 + b"{}",
    "cut before its length": b"\x01\x02",
}


@pytest.mark.attack("malformed-answers")
@pytest.mark.parametrize("case", sorted(HOSTILE_CHECKPOINTS))
def test_a_hostile_model_directory_is_one_message(tmp_path: Path, case: str) -> None:
    """A model directory's config.json and safetensors headers are anyone's to write:
    `vtui estimate DIR` says it cannot read them, in one line, and exits 1."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}')
    (model / "model.safetensors").write_bytes(HOSTILE_CHECKPOINTS[case])
    done = vtui(tmp_path, "estimate", str(model), "--gpu-mem-gib", "80")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "model.safetensors" in done.stderr and "cannot read" in done.stderr, done.stderr


@pytest.mark.attack("malformed-answers")
def test_a_config_json_nested_past_python_s_limit_is_one_message(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text("[" * 100_000 + "]" * 100_000)
    done = vtui(tmp_path, "estimate", str(config), "--gpu-mem-gib", "80")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "not valid JSON" in done.stderr
