"""Profiles on disk: hand edits survive, writes are atomic and private, broken files are named."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from vtui.backends.files.profile_store import ProfileStore
from vtui.core.errors import ProfileError
from vtui.core.launch_spec import LaunchSpec
from vtui.locations import config_dir

SPEC = LaunchSpec(
    name="qwen",
    model="Qwen/Qwen3-8B",
    gpus=(0, 1),
    port=8001,
    hf_cache="/srv/hf",
    env={"VLLM_LOGGING_LEVEL": "DEBUG"},
    args={
        "--tensor-parallel-size": 2,
        "--gpu-memory-utilization": 0.9,
        "--trust-remote-code": True,
        "--limit-mm-per-prompt": {"image": 2},
    },
    extra_args=("--max-logprobs", "5"),
)


@pytest.fixture
def store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(tmp_path / "vtui")


def test_a_profile_round_trips(store: ProfileStore) -> None:
    store.create(SPEC)
    assert store.load("qwen") == SPEC
    assert store.names() == ["qwen"]


def test_hand_edits_and_comments_survive_a_load_and_save(store: ProfileStore) -> None:
    path = store.create(SPEC)
    text = path.read_text().replace(
        "port = 8001", "# moved off 8000: grafana lives there\nport = 8001  # keep!"
    )
    text = text.replace("\n[vllm]\n", "\n[vllm]\n# tuned on 2026-11-20\n")
    path.write_text(text)
    spec = store.load("qwen")
    store.save(LaunchSpec(**{**spec.__dict__, "args": {**spec.args, "--max-model-len": 16384}}))
    saved = path.read_text()
    assert "# moved off 8000: grafana lives there" in saved
    assert "port = 8001  # keep!" in saved
    assert "# tuned on 2026-11-20" in saved
    assert "max-model-len = 16384" in saved
    assert store.load("qwen").args["--max-model-len"] == 16384


@pytest.mark.security("atomic-private-files")
def test_files_are_private_and_writes_leave_no_temporaries(store: ProfileStore) -> None:
    path = store.create(SPEC)
    key = store.keys_dir / "qwen.key"
    for written in (path, key):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
    store.save(SPEC)
    assert sorted(p.name for p in path.parent.iterdir()) == ["qwen.toml"]


@pytest.mark.security("api-key-generated")
def test_the_key_is_generated_once_and_kept_out_of_the_profile(store: ProfileStore) -> None:
    path = store.create(SPEC)
    key = store.api_key("qwen")
    assert len(key) >= 40 and key != "123123"
    assert store.api_key("qwen") == key
    assert key not in path.read_text()
    assert 'api_key_file = "keys/qwen.key"' in path.read_text()
    store.duplicate("qwen", "qwen-copy")
    assert store.api_key("qwen-copy") != key
    store.delete("qwen-copy")
    assert not (store.keys_dir / "qwen-copy.key").exists()
    assert store.names() == ["qwen"]


@pytest.mark.fault("corrupt-profile")
def test_a_broken_file_is_named_with_its_line_and_never_overwritten(store: ProfileStore) -> None:
    path = store.create(SPEC)
    broken = path.read_text().replace("port = 8001", "port = = 8001")
    path.write_text(broken)
    line = broken.splitlines().index("port = = 8001") + 1
    with pytest.raises(ProfileError, match=rf"qwen\.toml:{line}:"):
        store.load("qwen")
    with pytest.raises(ProfileError, match=rf"qwen\.toml:{line}:"):
        store.save(SPEC)
    assert path.read_text() == broken


def test_wrong_types_and_missing_model_are_reported(store: ProfileStore) -> None:
    store.profiles_dir.mkdir(parents=True)
    (store.profiles_dir / "a.toml").write_text('port = "eighty"\nmodel = "m/m"\n')
    with pytest.raises(ProfileError, match="port has the wrong type"):
        store.load("a")
    (store.profiles_dir / "b.toml").write_text("port = 8000\n")
    with pytest.raises(ProfileError, match="model is missing"):
        store.load("b")
    with pytest.raises(ProfileError, match="not a profile name"):
        store.load("../../etc/passwd")


def test_the_config_dir_follows_xdg() -> None:
    assert config_dir({"XDG_CONFIG_HOME": "/x/cfg", "HOME": "/h"}) == Path("/x/cfg/vtui")
    assert config_dir({"HOME": "/h"}) == Path("/h/.config/vtui")


def test_a_profile_s_docker_host_must_be_a_host_name(tmp_path: Path) -> None:
    from vtui.backends.files.profile_store import ProfileStore
    from vtui.core.errors import ProfileError

    store = ProfileStore(tmp_path)
    (tmp_path / "profiles").mkdir(parents=True)
    (tmp_path / "profiles" / "p.toml").write_text(
        'model = "Qwen/Qwen3-8B"\ndocker_host = "-oProxyCommand=x"\n'
    )
    with pytest.raises(ProfileError, match="is not a host name"):
        store.load("p")
