"""Files vtui names by the time they are saved: two saves within one second keep both."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.support.helpers import demo
from vtui.backends.files.new_files import claim_new
from vtui.services.load_runner import save_run
from vtui.services.saving import save_chat, save_log


def test_a_taken_name_moves_to_the_next_number_and_claims_every_suffix(tmp_path: Path) -> None:
    (tmp_path / "chat-1.md").write_text("older")  # only one half of the pair is taken
    first = claim_new(tmp_path, "chat-1", (".json", ".md"))
    assert [p.name for p in first] == ["chat-1-2.json", "chat-1-2.md"]
    assert not (tmp_path / "chat-1.json").exists()  # the half-claim was given back
    second = claim_new(tmp_path, "chat-1", (".json", ".md"))
    assert [p.name for p in second] == ["chat-1-3.json", "chat-1-3.md"]
    assert (tmp_path / "chat-1.md").read_text() == "older"
    assert stat.S_IMODE(os.stat(first[0]).st_mode) == 0o600


def test_a_link_in_the_way_is_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("keep")
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "run.json").symlink_to(outside)
    (claimed,) = claim_new(folder, "run")
    assert claimed.name == "run-2.json" and outside.read_text() == "keep"


def test_two_load_test_runs_saved_in_one_second_are_both_kept() -> None:
    backends = demo()
    first = save_run({"launch": {"profile": "p"}, "n": 1}, backends)
    second = save_run({"launch": {"profile": "p"}, "n": 2}, backends)
    assert first != second
    assert json.loads(first.read_text())["n"] == 1
    assert json.loads(second.read_text())["n"] == 2
    assert len(list(backends.places.bench_runs.glob("*.json"))) == 2


def test_two_chats_saved_in_one_second_are_both_kept() -> None:
    backends = demo()
    a = save_chat(backends, "20261207-101010", '{"n": 1}', "one")
    b = save_chat(backends, "20261207-101010", '{"n": 2}', "two")
    assert [p.name for p in a] == ["chat-20261207-101010.json", "chat-20261207-101010.md"]
    assert [p.name for p in b] == ["chat-20261207-101010-2.json", "chat-20261207-101010-2.md"]
    assert a[1].read_text() == "one" and b[1].read_text() == "two"


def test_two_logs_saved_in_one_second_are_both_kept() -> None:
    backends = demo()
    paths = {save_log(backends, "vtui-x", f"log {n}") for n in range(3)}
    assert len(paths) == 3
    assert sorted(p.read_text() for p in paths) == ["log 0", "log 1", "log 2"]


def test_a_folder_full_of_that_name_is_an_error_not_an_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vtui.backends.files.new_files.MAX_TRIES", 2)
    claim_new(tmp_path, "x")
    claim_new(tmp_path, "x")
    with pytest.raises(FileExistsError, match="2 files named x"):
        claim_new(tmp_path, "x")
