"""Secure by default, each property a test: keys shown masked, no shell anywhere, model
directories read-only, and the planted-token search shown to find what it looks for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.helpers import REPO, ManualClock, demo
from tests.support.leak_scan import files_holding, files_under
from tests.support.screens import text_of, until
from vtui.core.launch_spec import CONTAINER_MODEL_DIR, LaunchSpec, run_request, volumes
from vtui.core.masking import masked
from vtui.core.renderings import render_compose, render_docker_run
from vtui.ui.app import VtuiApp


@pytest.mark.security("api-key-masked")
def test_a_key_is_masked_to_its_last_four_characters_and_a_short_one_to_none() -> None:
    key = "Zq3v8Kd0YbTn2LwXhP1cR7sE"
    assert masked(key) == "\u2022" * 8 + "R7sE"
    assert key[:-4] not in masked(key)
    assert masked("short-key") == "\u2022" * 8


@pytest.mark.security("api-key-masked")
async def test_the_server_screen_shows_the_key_masked_and_k_copies_it_whole() -> None:
    app = VtuiApp(demo(clock=ManualClock()))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.switch_mode("server")
        await until(app, "the endpoint line", lambda: "/v1 serves" in text_of(app, "#server-phase"))
        (deployment,) = app.backends.engine.list_deployments()
        key = app.backends.engine.api_key(deployment.container_id)
        assert key
        await until(app, "the masked key", lambda: masked(key) in text_of(app, "#server-phase"))
        assert key not in text_of(app, "#server-phase")
        await pilot.press("k")
        await pilot.pause()
        assert app.clipboard == key
        said = [str(n.message) for n in app._notifications]
        assert any(masked(key) in m for m in said) and not any(key in m for m in said)


def _shell_calls(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        is_os = isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "os"
        if is_os and name in {"system", "popen"}:
            found.append(f"os.{name}")
        for keyword in node.keywords:
            if keyword.arg == "shell" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                found.append(f"{name}(shell=...)")
    return found


@pytest.mark.security("no-shell")
def test_no_code_hands_a_string_to_a_shell() -> None:
    offenders = {}
    sources = [*sorted((REPO / "vtui").rglob("*.py")), *sorted((REPO / "bench").rglob("*.py"))]
    assert len(sources) > 50
    for path in sources:
        calls = _shell_calls(ast.parse(path.read_text(encoding="utf-8")))
        if calls:
            offenders[str(path.relative_to(REPO))] = calls
    assert offenders == {}
    # The search itself finds each form it looks for.
    planted = "import os, subprocess\nos.system(x)\nos.popen(x)\nsubprocess.run(x, shell=True)\n"
    assert _shell_calls(ast.parse(planted)) == ["os.system", "os.popen", "run(shell=...)"]


@pytest.mark.security("model-read-only")
def test_a_model_directory_is_mounted_read_only_everywhere_it_is_rendered() -> None:
    spec = LaunchSpec(name="local", model="/srv/models/qwen3-8b", hf_cache="/srv/hf")
    assert (spec.model, CONTAINER_MODEL_DIR, "ro") in volumes(spec)
    assert (spec.model, CONTAINER_MODEL_DIR, "ro") in run_request(spec, "k", {}).volumes
    assert f'"{spec.model}:{CONTAINER_MODEL_DIR}:ro"' in render_compose(spec)
    assert f"-v {spec.model}:{CONTAINER_MODEL_DIR}:ro" in render_docker_run(spec)


@pytest.mark.security("hf-token-unseen")
def test_the_token_search_finds_a_token_wherever_it_lies(tmp_path: Path) -> None:
    # Another token than the planted one, so that this test's files are no leak.
    token = "hf_searchControl" + "x" * 20
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "log.txt").write_text(f"Authorization: Bearer {token}\n")
    (tmp_path / "clean.txt").write_text("nothing here")
    (tmp_path / "image.svg").write_bytes(b"<svg>" + token.encode() + b"</svg>")
    hits = files_holding(token, files_under([tmp_path]))
    assert sorted(p.name for p in hits) == ["image.svg", "log.txt"]


@pytest.mark.security("api-key-generated")
def test_a_profiles_key_comes_from_secrets_and_is_kept_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import secrets
    import stat

    from vtui.backends.files import profile_store
    from vtui.backends.files.profile_store import ProfileStore

    asked: list[int] = []
    original = secrets.token_urlsafe

    def token_urlsafe(nbytes: int) -> str:
        asked.append(nbytes)
        return original(nbytes)

    monkeypatch.setattr(profile_store.secrets, "token_urlsafe", token_urlsafe)
    store = ProfileStore(tmp_path / "vtui")
    store.create(LaunchSpec(name="a", model="Qwen/Qwen3-8B"))
    store.create(LaunchSpec(name="b", model="Qwen/Qwen3-8B"))
    keys = [store.api_key("a"), store.api_key("b")]
    assert asked == [32, 32]  # 256 bits each, from the OS's random source
    assert keys[0] != keys[1] and all(len(k) >= 43 for k in keys)
    key_file = store.keys_dir / "a.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.keys_dir.stat().st_mode) == 0o700


@pytest.mark.security("api-key-by-env")
def test_the_key_reaches_the_container_by_environment_only() -> None:
    spec = LaunchSpec(name="a", model="Qwen/Qwen3-8B")
    key = "k" * 43
    request = run_request(spec, key, {"HF_TOKEN": "hf_fromTheShell"})
    assert request.environment["VLLM_API_KEY"] == key
    assert request.environment["HF_TOKEN"] == "hf_fromTheShell"
    assert not any(key in part or "hf_fromTheShell" in part for part in request.command)
    assert "--api-key" not in request.command
    assert key not in render_compose(spec) and key not in render_docker_run(spec)
