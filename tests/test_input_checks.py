"""Every input vtui takes is checked where it is typed: each CLI option and each Launch form
field refuses a bad value with a message that names it, and the profile loader and the log
explainer take random input without an exception escaping."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vtui.cli.main import build_parser, main

# Per command (its words, and what it needs before the option), the bad values of each option.
# A test below walks vtui's parser: an option missing here fails it, so a new option comes
# with its refusals.
BAD: dict[tuple[str, ...], dict[str, list[str]]] = {
    (): {
        "--seed": ["seven"],
        "--demo-gpus": ["9", "0", "two"],
        "--demo-hosts": ["5", "0", "two"],
        "--gpu-interval": ["0.01", "fast"],
        "--screenshots": ["/dev/null/shots"],
        "--size": ["big", "10x5", "120x5000"],
    },
    ("compose", "p1"): {
        "--output": ["/dev/null/compose.yml"],
        "--format": ["yaml"],
    },
    ("profile", "new", "p", "--model", "Qwen/Qwen3-8B"): {
        "--model": [" "],
        "--gpus": ["zero", "0,0"],
        "--host": ["localhost!"],
        "--port": ["70000", "http"],
        "--image": [""],
        "--runtime": ["vm"],
        "--vllm-program": ["/nonexistent/vllm"],  # for a docker profile: it has no use there
        "--docker-host": ["gpu-7", "no name!"],  # not a host `vtui hosts` lists
        "--worker-host": ["gpu-7", "no name!"],
        "--head-address": ["10.0.0.1"],  # without a worker host it means nothing
        "--ray-port": ["0", "six"],
    },
    ("profile", "new", "p", "--model", "Qwen/Qwen3-8B", "--runtime", "process"): {
        "--vllm-program": ["/nonexistent/vllm"],
    },
    ("attach", "http://127.0.0.1:9"): {
        "--name": ["not a name!"],
        "--api-key-env": ["VTUI_TEST_UNSET_VARIABLE"],
    },
    ("search", "qwen"): {
        "--quant": ["int3"],
        "--size": ["huge"],
        "--sort": ["random"],
        "--limit": ["0", "many"],
    },
    ("download", "vtui-test/tiny"): {
        "--local-dir": ["/dev/null/models"],
        "--cache-dir": ["/dev/null/cache"],
    },
    ("models",): {"--dir": ["/dev/null/nowhere"]},
    ("--demo", "download", "Qwen/Qwen3-8B"): {"--host": ["gpu-7"]},
    ("--demo", "estimate", "Qwen/Qwen3-8B"): {"--host": ["gpu-7"]},
    ("export", "p1", "--to", "k8s"): {
        "--to": ["nomad"],
        "--output": ["/dev/null/p1.yaml"],
        "--k8s-version": ["1.10", "latest"],
    },
    ("--demo", "up", "demo"): {"--timeout": ["0", "-5", "soon"], "--host": ["gpu-7"]},
    ("--demo", "logs", "vtui-demo"): {"--tail": ["-1", "all"], "--host": ["gpu-7"]},
    ("--demo", "down", "vtui-demo"): {"--timeout": ["-1", "now"], "--host": ["gpu-7"]},
    ("--demo", "ps"): {"--host": ["gpu-7", "-x"]},
    ("--demo", "gpus"): {"--host": ["gpu-7"]},
    ("--demo", "chat", "--prompt", "hi"): {
        "--endpoint": ["ftp://example", "localhost:8000"],
        "--api-key-env": ["VTUI_TEST_UNSET_VARIABLE", "not a name"],
        "--name": ["no-such-container"],
        "--max-tokens": ["0", "lots"],
        "--temperature": ["-1", "3", "warm"],
        "--top-p": ["0", "1.5"],
    },
    ("--demo", "bench"): {
        "--endpoint": ["ftp://example"],
        "--api-key-env": ["VTUI_TEST_UNSET_VARIABLE"],
        "--name": ["no-such-container"],
        "--concurrency": ["0", "many"],
        "--duration": ["0", "-1"],
        "--prompt-tokens": ["0"],
        "--max-tokens": ["0"],
        "--output": ["/dev/null/run.json"],
        "--compare": ["/nonexistent/a.json"],
    },
    ("estimate", "Qwen/Qwen3-8B", "--gpu-mem-gib", "80"): {
        "--gpus": ["0", "two"],
        "--gpu-memory-utilization": ["1.5", "0"],
        "--tensor-parallel-size": ["0", "-2"],
        "--pipeline-parallel-size": ["0"],
        "--max-model-len": ["-1", "long"],
        "--kv-cache-dtype": ["fp7"],
        "--dtype": ["float8"],
        "--quantization": ["magic"],
        "--max-num-seqs": ["0"],
        "--max-num-batched-tokens": ["-3"],
        "--vllm-version": ["latest", "0.26"],
    },
    ("--demo", "doctor"): {
        "--port": ["0", "65536", "eighty"],
        "--repo": ["not a repo", "../x"],
    },
    ("--demo", "probe", "qwen2.5-7b"): {
        "--timeout": ["0", "soon"],
        "--log": ["/dev/null/probe.log"],
    },
}
# Options that take any text: what they name is found (or not) by what they talk to.
FREE_TEXT = {
    ("search", "--author"),  # the Hub answers an unknown author with no results
    ("download", "--revision"),  # a branch, tag or commit: the Hub says if it has it
    ("chat", "--model"),  # served model names are the server's to say
    ("bench", "--model"),
    ("chat", "--prompt"),
    ("chat", "--system"),
    ("estimate", "--gpu-mem-gib"),  # given in every row above; its own checks are in test_cli
}
# Where --compare wants two files, and the second is checked the same way.
TWO_VALUES = {"--compare"}


def value_options(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> set[tuple]:
    found: set[tuple] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= value_options(sub, (*words, name))
        elif (
            action.option_strings
            and action.nargs != 0
            and not isinstance(action, (argparse._HelpAction, argparse._VersionAction))
        ):
            found.add((words, max(action.option_strings, key=len)))
    return found


def _command_words(prefix: tuple[str, ...]) -> tuple[str, ...]:
    words = [w for w in prefix if not w.startswith("-")]
    commands = {"compose", "profile", "new", "search", "download", "models", "up", "logs"}
    commands |= {"down", "chat", "bench", "estimate", "attach", "probe", "doctor", "ps", "gpus"}
    commands |= {"export"}
    return tuple(w for w in words if w in commands)


def test_every_option_that_takes_a_value_has_bad_values_or_is_free_text() -> None:
    listed = {(_command_words(prefix), option) for prefix, table in BAD.items() for option in table}
    free = {((command,) if command != "profile new" else ("profile", "new"), option)
            for command, option in FREE_TEXT}  # fmt: skip
    missing = value_options(build_parser([], with_commands=True)) - listed - free
    assert missing == set()


CASES = [
    (prefix, option, value)
    for prefix, table in BAD.items()
    for option, values in table.items()
    for value in values
]


@pytest.fixture
def quiet_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for variable in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing leaves this machine
    monkeypatch.delenv("VTUI_TEST_UNSET_VARIABLE", raising=False)
    assert main(["profile", "new", "p1", "--model", "Qwen/Qwen3-8B"]) == 0
    return tmp_path


@pytest.mark.input_check("cli-options")
@pytest.mark.parametrize(("prefix", "option", "value"), CASES, ids=lambda v: str(v))
def test_a_bad_value_is_refused_with_a_message_that_names_its_option(
    prefix: tuple[str, ...],
    option: str,
    value: str,
    quiet_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()  # the fixture's own output
    argv = [*prefix, option, value]
    if option in TWO_VALUES:
        argv.append(value)
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    message = capsys.readouterr().err
    assert code not in (0, None), f"vtui {' '.join(argv)} was accepted"
    # Named as the option, as the profile field it fills ("model: ..."), or by the value.
    named = (option, f"{option.lstrip('-')}: ", *([value] if value.strip() else []))
    assert any(name in message for name in named), message
    assert "Traceback" not in message


# Per Launch form field, texts it must refuse. Fields left out take any text, for a reason.
BAD_FIELD_TEXTS: dict[str, list[str]] = {
    "model": ["", "/models/a:b"],
    "image": [" "],
    "gpus": ["x", "0,0", "9"],
    "runtime": ["vm", "kubernetes"],
    "--dtype": ["float8"],
    "--trust-remote-code": ["maybe"],
    "--seed": ["lucky"],
    "--max-model-len": ["long", "0", "-5"],
    "--gpu-memory-utilization": ["1.5", "0", "most"],
    "--kv-cache-dtype": ["fp7"],
    "--cpu-offload-gb": ["-1", "some"],
    "--enforce-eager": ["sometimes"],
    "--tensor-parallel-size": ["0", "3", "two"],
    "--pipeline-parallel-size": ["0"],
    "--data-parallel-size": ["0"],
    "--max-num-seqs": ["0", "-1"],
    "--max-num-batched-tokens": ["0"],
    "--enable-prefix-caching": ["perhaps"],
    "--enable-chunked-prefill": ["2"],
    "--host": ["localhost!", "8.8.8.8.8"],
    "--port": ["http", "0", "70000"],
    "--enable-auto-tool-choice": ["auto"],
    "--limit-mm-per-prompt": ["{image: 2", "[1"],
    "extra": ["--a 'open", "--max-model-lenn 4096", "--port 9000"],
}
FREE_FIELDS = {
    "--served-model-name",  # any name the API should answer to
    "--tokenizer",  # a repo id or a directory, as the model
    "--revision",  # a branch, tag or commit: the Hub says
    "--load-format",  # loaders register themselves in vLLM
    "--generation-config",  # "auto", "vllm" or a folder
    "--chat-template",  # a file or the template itself
    "--quantization",  # quantization plugins register more than vLLM lists
    "--tool-call-parser",  # tool-parser plugins register more
    "--reasoning-parser",  # reasoning-parser plugins register more
    "--api-key",  # generated by vtui, never typed
    "vllm_program",  # a path: whether a program is there is the host check's to say
}


def test_every_form_field_has_bad_texts_or_is_free_text() -> None:
    from vtui.core.launch_form import form_groups

    keys = {f.key for _title, fields in form_groups() for f in fields}
    assert keys - set(BAD_FIELD_TEXTS) - FREE_FIELDS == set()
    assert set(BAD_FIELD_TEXTS) | FREE_FIELDS <= keys  # nothing listed that the form lacks


@pytest.mark.input_check("form-fields")
@pytest.mark.parametrize(
    ("key", "text"), [(k, t) for k, texts in BAD_FIELD_TEXTS.items() for t in texts]
)
def test_a_bad_text_in_a_form_field_is_a_problem_of_that_field(key: str, text: str) -> None:
    from vtui.core.launch_checks import HostFacts, ModelFacts, check
    from vtui.core.launch_form import spec_from_texts, texts_from_spec
    from vtui.core.launch_spec import LaunchSpec

    base = LaunchSpec(name="form", model="Qwen/Qwen3-8B", gpus=(0, 1))
    host = HostFacts(gpu_count=2, compute_capability=(9, 0))
    model = ModelFacts(num_attention_heads=32, max_position_embeddings=40960)
    spec, unreadable = spec_from_texts(base, texts_from_spec(base) | {key: text})
    problems = unreadable + check(spec, host, model)
    stopping = {p.field: p.message for p in problems if p.blocks_launch}
    assert key in stopping, f"{key} = {text!r} was taken; problems: {problems}"
    assert stopping[key].strip()


# ---- random input --------------------------------------------------------------------------

toml_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.dates(),
    st.datetimes(),
)
profile_keys = st.sampled_from(
    ["model", "image", "gpus", "host", "port", "env", "vllm", "extra_args", "offline",
     "container_name", "served_model_name", "hf_cache", "api_key_file", "max-model-len",
     "tensor-parallel-size", "trust-remote-code", "limit-mm-per-prompt"]
) | st.text(min_size=1, max_size=8)  # fmt: skip
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(profile_keys, inner, max_size=3),
    max_leaves=8,
)


def _load_checked(tmp_path: Path, text: str) -> None:
    """What vtui does with a profile file: load it, check it, render it if it is sound."""
    from vtui.backends.files.profile_store import ProfileStore
    from vtui.core.errors import ProfileError
    from vtui.core.launch_checks import HostFacts, check
    from vtui.core.renderings import render_compose, render_docker_run

    store = ProfileStore(tmp_path / "vtui")
    store.profiles_dir.mkdir(parents=True, exist_ok=True)
    store.path("fuzzed").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        spec = store.load("fuzzed")
    except ProfileError as exc:
        assert "fuzzed.toml" in str(exc)  # the message names the file
        return
    problems = check(spec, HostFacts(gpu_count=2))
    if not any(p.blocks_launch and not p.warning for p in problems):
        render_compose(spec)
        render_docker_run(spec)


@pytest.mark.input_check("toml-fuzz")
@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_random_text_as_a_profile_is_refused_by_name_never_with_a_traceback(
    tmp_path: Path, text: str
) -> None:
    _load_checked(tmp_path, text)


@pytest.mark.input_check("toml-fuzz")
@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(profile_keys, toml_values, max_size=8))
def test_well_formed_toml_of_any_shape_is_refused_by_name_or_loaded(
    tmp_path: Path, document: dict[str, object]
) -> None:
    import tomlkit

    try:
        text = tomlkit.dumps(document)
    except (TypeError, ValueError):
        return  # not expressible in TOML (a NaN key and the like): nobody can write it
    _load_checked(tmp_path, text)


@pytest.mark.input_check("log-explainer-fuzz")
@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=20))
def test_any_log_lines_are_explained_or_not_without_an_exception(lines: list[str]) -> None:
    from vtui.core.log_explainer import explain

    explain(lines)
