"""nvidia-smi's CSV as vtui reads a remote host's GPUs: the bytes recorded on a real H200
read as NVML read them there, and hostile answers read as bounded text or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vtui.core.smi_csv import GPU_FIELDS, SEPARATOR, SmiProblem, parse_smi, smi_command

DATA = Path(__file__).parent / "data" / "nvidia-smi"


def recorded(state: str) -> str:
    return (
        (DATA / f"gpu-{state}.csv").read_text()
        + SEPARATOR
        + "\n"
        + (DATA / f"apps-{state}.csv").read_text()
    )


def test_the_recorded_h200_reads_as_nvml_read_it_on_the_same_machine() -> None:
    busy = parse_smi(recorded("busy")).gpus[0]
    nvml = json.loads((DATA / "vtui-gpus.json").read_text())["gpus"][0]
    mib = 1024 * 1024
    assert busy.name == nvml["name"] == "NVIDIA H200"
    assert busy.uuid == nvml["uuid"]
    assert busy.memory_total_mib == nvml["memory_total_bytes"] // mib == 143_771
    assert abs(busy.memory_reserved_mib - nvml["memory_reserved_bytes"] / mib) <= 1  # type: ignore[operator]
    # nvidia-smi rounds used memory up to the MiB: at most one apart.
    assert abs(busy.memory_used_mib - nvml["memory_used_bytes"] / mib) <= 1  # type: ignore[operator]
    assert busy.compute_capability == (9, 0) and busy.mig_enabled is False
    assert busy.fan_pct is None  # "[N/A]" on an H200, as NVML's null
    assert busy.utilization_pct == nvml["utilization_percent"] == 100
    [process] = busy.processes
    assert (process.pid, process.name, process.memory_used_mib) == (563, "python3", 21_090)
    assert process.memory_used_mib == nvml["processes"][0]["memory_used_bytes"] // mib
    idle = parse_smi(recorded("idle")).gpus[0]
    assert idle.memory_used_mib == 0 and idle.processes == ()


def test_the_command_asks_for_the_fields_it_reads() -> None:
    command = smi_command()
    assert f"--query-gpu={','.join(GPU_FIELDS)} --format=csv,noheader,nounits" in command
    assert SEPARATOR in command


@pytest.mark.attack("malformed-answers")
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no compute-apps part"),
        (f"{SEPARATOR}\n", "listed no GPU"),
        (f"0, GPU-x, H200\n{SEPARATOR}\n", "a line of 3 fields where 16 were asked for"),
        (f"x{',' * 15}\n{SEPARATOR}\n", "is not a GPU index"),
    ],
)
def test_an_answer_that_cannot_be_read_says_where(text: str, words: str) -> None:
    with pytest.raises(SmiProblem, match=words):
        parse_smi(text)


@pytest.mark.attack("terminal-escapes")
@pytest.mark.attack("metric-ranges")
def test_hostile_figures_and_names_become_bounded_text_or_not_reported() -> None:
    line = recorded("busy").splitlines()[0].split(", ")
    line[2] = "\x1b]52;c;SG9zdGlsZQ==\x07H200" + "A" * 500
    line[3] = "nan"  # memory.used
    line[7] = "250"  # utilization over 100
    line[9] = "-5"  # negative power
    text = ", ".join(line) + f"\n{SEPARATOR}\n563, GPU-x, 10, \x1b[2Jevil, with, commas\n"
    gpu = parse_smi(text).gpus[0]
    assert "\x1b" not in gpu.name and len(gpu.name) <= 96
    assert gpu.memory_used_mib is None and gpu.utilization_pct is None and gpu.power_w is None
    assert gpu.processes == ()  # its uuid is not this GPU's


@pytest.mark.attack("bounded-memory")
def test_an_endless_answer_is_read_to_a_bound() -> None:
    row = recorded("busy").splitlines()[0]
    text = "\n".join([row] * 100_000) + f"\n{SEPARATOR}\n"
    assert len(parse_smi(text).gpus) == 64
    with pytest.raises(SmiProblem):  # one overlong line: cut, so its fields do not add up
        parse_smi(row.replace("NVIDIA H200", "H" * 5000) + f"\n{SEPARATOR}\n")
