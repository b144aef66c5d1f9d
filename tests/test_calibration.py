"""The calibration store is the user's own file, read as untrusted: what vtui wrote reads
back the same; anything else is refused line by line, with the reason, never obeyed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vtui.backends.files.calibration_store import MAX_BYTES, CalibrationStore
from vtui.backends.registry import backends_for
from vtui.core.calibration import BadRecord, Measured, StartKey, StartRecord, parse_line
from vtui.core.safe_names import UnsafeName
from vtui.services.probing import probe

GOOD = StartRecord(
    at="2026-12-02T03:38:00+00:00",
    source="probe",
    key=StartKey("meta-llama/Llama-3.1-8B-Instruct", "NVIDIA H200", 143155),
    vllm_version="0.26.0",
    runner="V2",
    max_model_len=8192,
    utilization=0.92,
    measured=Measured(15.0, 112.28, 919_824, 1.1, 0.22, 0.0, 0.98, 112.27, 8192, 128.62),
)


def edited(path: str, value: object) -> str:
    data = json.loads(GOOD.to_line())
    *parents, last = path.split(".")
    target = data
    for name in parents:
        target = target[name]
    target[last] = value
    return json.dumps(data)


def test_a_record_reads_back_as_written() -> None:
    assert parse_line(GOOD.to_line()) == GOOD


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("key.model", "\x1b]52;c;cHduZWQ=\x07evil"),  # an escape sequence for the terminal
        ("key.model", "x" * 1000),
        ("key.model", ""),
        ("key.gpu_total_mib", "lots"),
        ("key.tensor_parallel", 0),
        ("key.enforce_eager", "yes"),
        ("measured.kv_cache_tokens", 10**30),
        ("measured.weights_gib", -5),
        ("measured.weights_gib", float("inf")),
        ("measured.max_concurrency", True),
        ("source", "rm -rf"),
        ("estimated", [1, 2]),
        ("measured", None),
    ],
)
def test_a_hostile_field_refuses_the_line_with_its_name(path: str, value: object) -> None:
    with pytest.raises(BadRecord) as refused:
        parse_line(edited(path, value))
    assert path.split(".")[-1] in str(refused.value) or "not" in str(refused.value)


@pytest.mark.parametrize("line", ["[]", "not json", "{" * 100_000, "x" * 10_000])
def test_what_is_not_a_record_at_all_is_refused(line: str) -> None:
    with pytest.raises(BadRecord):
        parse_line(line)


def test_the_store_skips_bad_lines_reads_only_its_end_and_keeps_the_good(tmp_path: Path) -> None:
    store = CalibrationStore(tmp_path)
    store.add(GOOD)
    with open(store.path, "a") as handle:
        handle.write(edited("key.model", "\x1b[2J") + "\n")
    store.add(GOOD)
    learned = store.read()
    assert learned.records == (GOOD, GOOD)
    assert len(learned.warnings) == 1 and "\x1b" not in learned.warnings[0]
    assert (store.path.stat().st_mode & 0o777) == 0o600
    # A file grown without bound: only its last MAX_BYTES are read, whole lines only.
    with open(store.path, "a") as handle:
        handle.write((GOOD.to_line() + "\n") * (MAX_BYTES // len(GOOD.to_line()) + 50))
    assert all(r == GOOD for r in store.read().records)


def test_the_store_will_not_write_through_a_planted_link(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "calibration.jsonl").symlink_to(elsewhere)
    with pytest.raises((OSError, UnsafeName)):
        CalibrationStore(tmp_path / "state").add(GOOD)
    assert elsewhere.read_text() == ""


def test_a_probe_through_a_planted_link_keeps_its_figures_and_writes_nothing_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    backends = backends_for(True)
    state = backends.places.state
    state.mkdir(parents=True, exist_ok=True)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("")
    (state / "calibration.jsonl").symlink_to(elsewhere)
    result = probe(backends, "qwen2.5-7b", deadline_seconds=60)
    assert result.measured is not None  # the probe's figures are shown all the same
    assert elsewhere.read_text() == ""
