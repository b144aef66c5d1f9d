"""One LaunchSpec, three renderings that say the same thing and cannot be broken by values."""

from __future__ import annotations

import shlex
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from vtui.core.launch_spec import CONTAINER_MODEL_DIR, LaunchSpec, vllm_arguments
from vtui.core.renderings import (
    API_KEY_ENTRY,
    KEY_GUARD,
    container_environment,
    docker_run_argv,
    render_compose,
    render_docker_run,
    render_vllm_serve,
    vllm_serve_argv,
)
from vtui.core.vllm_args import CATALOGUE
from vtui.core.vllm_release import API_KEY_VAR, DEFAULT_IMAGE
from vtui.core.yaml_text import compose_unescape

SEED = Path(__file__).parent / "data" / "seed-compose.yml"

# Text with the characters that break hand-written YAML and shell: quotes, colons, '$',
# '#', braces, newlines, tabs, backslashes, Unicode line separators and the like.
nasty = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(": #{}[]$\"'\\\n\t\r,&*!|>%@`-?=~\u2028\u0085\ufeff")),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=24,
)
names = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=20)
env_names = st.from_regex(r"[A-Z_][A-Z0-9_]{0,12}", fullmatch=True)


@st.composite
def specs(draw: st.DrawFn) -> LaunchSpec:
    local = draw(st.booleans())
    model = "/" + draw(nasty).replace("\0", "") if local else draw(nasty)
    args: dict[str, object] = {
        "--gpu-memory-utilization": draw(st.floats(0.05, 1.0)),
        "--max-model-len": draw(st.integers(1, 1 << 20)),
        "--trust-remote-code": draw(st.booleans()),
        "--enable-prefix-caching": draw(st.sampled_from([True, False, None])),
        "--chat-template": draw(nasty),
        "--tokenizer": draw(nasty),
        "--limit-mm-per-prompt": {draw(nasty): draw(st.integers(0, 9))},
    }
    return LaunchSpec(
        name=draw(names),
        model=model or "m",
        image=draw(st.sampled_from([DEFAULT_IMAGE, "registry.local:5000/vllm:x"])),
        gpus=draw(
            st.one_of(
                st.just("all"),
                st.lists(st.integers(0, 7), min_size=1, max_size=4, unique=True).map(tuple),
            )
        ),
        container_name=draw(st.one_of(st.just(""), names)),
        host=draw(st.sampled_from(["127.0.0.1", "0.0.0.0", "::1", "10.0.0.5"])),
        port=draw(st.integers(1, 65535)),
        served_model_name=draw(st.one_of(st.just(""), nasty)),
        hf_cache=draw(st.one_of(st.just(""), nasty.map(lambda s: "/" + s))),
        env=draw(st.dictionaries(env_names, nasty, max_size=3)),
        args=args,
        extra_args=tuple(draw(st.lists(nasty, max_size=3))),
    )


def service(text: str) -> dict[str, object]:
    parsed = yaml.safe_load(text)
    assert list(parsed) == ["services"] and list(parsed["services"]) == ["vllm"]
    return parsed["services"]["vllm"]  # type: ignore[no-any-return]


def unescaped(values: object) -> list[str]:
    assert isinstance(values, list) and all(isinstance(v, str) for v in values)
    return [compose_unescape(v) for v in values]


@settings(max_examples=10_000, deadline=None)
@given(specs())
@pytest.mark.security("rendering-injection")
def test_compose_parses_back_to_exactly_the_spec(spec: LaunchSpec) -> None:
    svc = service(render_compose(spec))
    assert unescaped(svc["command"]) == vllm_arguments(spec, in_container=True)
    assert unescaped(svc["environment"]) == [*container_environment(spec), API_KEY_ENTRY]
    assert unescaped(svc["ports"]) == [spec.published_port]
    assert compose_unescape(str(svc["image"])) == spec.image
    assert compose_unescape(str(svc["container_name"])) == spec.container
    assert set(svc) <= {
        "image",
        "container_name",
        "ipc",
        "restart",
        "ports",
        "volumes",
        "environment",
        "command",
        "deploy",
        "healthcheck",
        "labels",
    }


@settings(max_examples=2_000, deadline=None)
@given(specs())
@pytest.mark.security("rendering-injection")
def test_shell_lines_split_back_to_the_same_argv(spec: LaunchSpec) -> None:
    assert shlex.split(render_docker_run(spec).removeprefix(KEY_GUARD)) == docker_run_argv(spec)
    assert shlex.split(render_vllm_serve(spec).removeprefix(KEY_GUARD)) == vllm_serve_argv(spec)


@pytest.mark.security("api-key-by-env")
@pytest.mark.security("hf-token-unseen")
def test_the_api_key_and_hf_token_are_never_written_by_value() -> None:
    spec = LaunchSpec(name="p", model="Qwen/Qwen3-8B", env={"A": "1"})
    text = render_compose(spec)
    env = service(text)["environment"]
    assert f"{API_KEY_VAR}=${{{API_KEY_VAR}:?" in text  # interpolated, from .env
    assert "HF_TOKEN" in env  # by name
    assert "--api-key" not in text
    assert "--api-key" not in render_docker_run(spec)
    assert "-e HF_TOKEN -e VLLM_API_KEY" in render_docker_run(spec)


@pytest.mark.security("loopback-bind")
def test_a_subset_of_gpus_is_reserved_by_id_and_published_on_loopback() -> None:
    spec = LaunchSpec(name="p", model="Qwen/Qwen3-8B", gpus=(1, 3))
    devices = service(render_compose(spec))["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "device_ids": ["1", "3"], "capabilities": ["gpu"]}]
    assert "--gpus '\"device=1,3\"'" in render_docker_run(spec)
    assert "-p 127.0.0.1:8000:8000" in render_docker_run(spec)


def test_the_seed_is_reproduced_with_only_the_listed_differences() -> None:
    seed = service(SEED.read_text())
    spec = LaunchSpec(
        name="qwen3",
        model="/data/models/Qwen3-8B-AWQ",
        container_name="vllm",
        args={
            "--gpu-memory-utilization": 0.9,
            "--dtype": "auto",
            "--tensor-parallel-size": 1,
            "--trust-remote-code": True,
        },
    )
    ours = service(render_compose(spec))
    # What the seed does, vtui does.
    assert ours["volumes"] == [f"/data/models/Qwen3-8B-AWQ:{CONTAINER_MODEL_DIR}:ro"]
    assert seed["volumes"] == [f"/data/models/Qwen3-8B-AWQ:{CONTAINER_MODEL_DIR}"]
    assert ours["deploy"] == seed["deploy"]
    assert set(seed["environment"]) < set(ours["environment"])
    seed_command = str(seed["command"]).split()
    seed_args = dict(zip(seed_command[::2], seed_command[1::2], strict=False))
    command = ours["command"]
    for flag in (
        "--model",
        "--gpu-memory-utilization",
        "--dtype",
        "--tensor-parallel-size",
        "--port",
    ):
        assert command[command.index(flag) + 1] == seed_args[flag], flag
    assert "--trust-remote-code" in command
    # Where it differs, it is on the list in the file's header, and nowhere else.
    assert seed_args["--api-key"] == "123123" and "--api-key" not in command
    assert set(command) - set(seed_command) == {
        "--served-model-name",
        "Qwen3-8B-AWQ",
        "--host",
        "0.0.0.0",
    }
    assert set(ours["environment"]) - set(seed["environment"]) == {"HF_TOKEN", API_KEY_ENTRY}
    assert seed["ports"] == ["8000:8000"] and ours["ports"] == ["127.0.0.1:8000:8000"]
    assert seed["image"] == "vllm/vllm-openai:latest" and ours["image"] == DEFAULT_IMAGE
    assert set(ours) - set(seed) == {"ipc", "restart", "healthcheck", "labels"}
    header = render_compose(spec).split("services:")[0]
    for reason in (
        "127.0.0.1",
        "API key",
        "HF_TOKEN",
        "ipc: host",
        "healthcheck",
        "--served-model-name",
        "not :latest",
    ):
        assert reason in header, reason


def test_every_flag_vtui_emits_is_in_the_pinned_catalogue() -> None:
    spec = LaunchSpec(
        name="p",
        model="/m",
        served_model_name="x",
        args={
            flag: {"flag": True, "int": 2, "float": 0.5, "json": {"image": 1}}.get(
                CATALOGUE[flag].kind, "v"
            )
            for flag in (
                "--gpu-memory-utilization",
                "--max-model-len",
                "--enforce-eager",
                "--limit-mm-per-prompt",
                "--kv-cache-dtype",
                "--enable-prefix-caching",
            )
        }
        | {"--enable-chunked-prefill": False},
    )
    for argv in (vllm_arguments(spec, in_container=True), vllm_serve_argv(spec)[2:]):
        for token in argv:
            if token.startswith("--"):
                assert token in CATALOGUE or token.removeprefix("--no-") in {
                    f[2:] for f in CATALOGUE if CATALOGUE[f].negatable
                }, token
