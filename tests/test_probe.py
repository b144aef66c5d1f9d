"""`vtui probe`: the profile's own vLLM (here the simulator, as an image on the real engine
and as a `vllm` program) started with dummy weights from config.json alone, its budget
read from its log, the probe removed, the figures kept for the next estimate."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SIM_IMAGE
from tests.support.helpers import REPO, free_port, run_vtui, sim_vllm_program
from vtui.backends.files.profile_store import ProfileStore
from vtui.core.launch_spec import LaunchSpec
from vtui.sim import catalogue
from vtui.sim.model_configs import config_json

QWEN = "Qwen/Qwen2.5-7B-Instruct"


def model_folder(root: Path, model: str = QWEN) -> Path:
    """A folder with the model's config.json and no weights at all."""
    folder = root / "models" / model.split("/")[-1]
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config_json(catalogue.find(model))))
    return folder


def profile(home: Path, folder: Path, *extra: str, **fields: object) -> str:
    name = f"p{secrets.token_hex(3)}"
    ProfileStore(home / "vtui").create(
        LaunchSpec(
            name=name,
            model=str(folder),
            served_model_name=QWEN,
            gpus="none",
            port=free_port(),
            extra_args=extra,
            **fields,  # type: ignore[arg-type]
        )
    )
    return name


def process_profile(tmp_path: Path, *extra: str, sim: tuple[str, ...] = ()) -> tuple[Path, str]:
    """A profile of the simulator behind a `vllm` program, as a venv's: (config home, name)."""
    home = tmp_path / "config"
    program = sim_vllm_program(tmp_path, *sim)
    name = profile(
        home, model_folder(tmp_path), *extra, runtime="process", vllm_program=str(program)
    )
    return home, name


def probe_json(home: Path, name: str) -> tuple[int, dict[str, object], str]:
    done = run_vtui("probe", name, "--json", config=home, timeout=120)
    return done.returncode, json.loads(done.stdout or "{}"), done.stderr


def calibration_lines(home: Path) -> list[dict[str, object]]:
    path = home / "state" / "vtui" / "calibration.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.engine
def test_a_probe_of_the_image_measures_with_dummy_weights_and_leaves_no_container(
    tmp_path: Path, docker_engine: object
) -> None:
    import docker

    home = tmp_path / "config"
    name = profile(home, model_folder(tmp_path), image=SIM_IMAGE)
    code, result, stderr = probe_json(home, name)
    assert code == 0, stderr
    command = result["command"]
    assert isinstance(command, list)
    assert command[command.index("--load-format") + 1] == "dummy"
    assert "--skip-tokenizer-init" in command
    measured = result["measured"]
    assert isinstance(measured, dict)
    # The simulator's own budget line, read back: weights, activation, non-torch, graphs.
    assert measured["activation_gib"] == 0.9 and measured["non_torch_gib"] == 0.25
    assert measured["cuda_graph_estimate_gib"] == 0.3
    assert measured["kv_cache_tokens"] > 100_000
    assert result["vllm_version"] == "0.33.0"
    left = docker.from_env().containers.list(all=True, filters={"name": f"vtui-probe-{name}"})
    assert left == []
    kept = calibration_lines(home)
    assert [line["source"] for line in kept] == ["probe"]
    assert kept[0]["measured"]["kv_cache_tokens"] == measured["kv_cache_tokens"]  # type: ignore[index]


def test_a_probe_of_a_vllm_program_reads_the_profile_s_own_settings(tmp_path: Path) -> None:
    home, name = process_profile(tmp_path, "--max-model-len", "8192")
    code, result, stderr = probe_json(home, name)
    assert code == 0, stderr
    measured = result["measured"]
    assert isinstance(measured, dict) and measured["context_tokens"] == 8192
    listed = run_vtui("ps", "--json", config=home)
    assert f"vtui-probe-{name}" not in listed.stdout  # stopped and removed


def test_a_length_vllm_refuses_is_a_result_with_the_longest_that_fits(tmp_path: Path) -> None:
    home, name = process_profile(tmp_path, "--gpu-memory-utilization", "0.2")
    done = run_vtui("probe", name, config=home, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "vLLM refused to start" in done.stdout
    longest = int(done.stdout.split("(--max-model-len ")[1].split(")")[0])
    assert 0 < longest < 32_768  # the model's own length did not fit
    assert calibration_lines(home) == []  # nothing measured, nothing kept


def test_ctrl_c_during_a_probe_removes_it(tmp_path: Path) -> None:
    home, name = process_profile(tmp_path, sim=("--sim-startup-seconds", "60"))
    env = dict(
        os.environ,
        XDG_CONFIG_HOME=str(home),
        XDG_STATE_HOME=str(home / "state"),
        HF_HOME=str(home / "hf"),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtui", "probe", name],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until the probe runs
        line = proc.stderr.readline()
        if "starting" in line and "dummy weights" not in line:
            break
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    listed = run_vtui("ps", "--json", config=home)
    assert f"vtui-probe-{name}" not in listed.stdout


def test_a_profile_that_asks_for_gpus_on_a_machine_without_any_says_so_before_starting(
    tmp_path: Path,
) -> None:
    pynvml = pytest.importorskip("pynvml")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        pass
    else:
        pytest.skip("this machine has NVML: the probe would start")
    home = tmp_path / "config"
    name = f"p{secrets.token_hex(3)}"
    ProfileStore(home / "vtui").create(
        LaunchSpec(name=name, model=str(model_folder(tmp_path)), gpus="all", image=SIM_IMAGE)
    )
    done = run_vtui("probe", name, config=home)
    assert done.returncode == 1
    assert "no GPU to probe on" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_next_estimate_uses_what_the_probe_measured_and_history_shows_its_error() -> None:
    probed = run_vtui("--demo", "probe", "qwen2.5-7b", "--json", timeout=120)
    assert probed.returncode == 0, probed.stderr
    measured = json.loads(probed.stdout)["measured"]
    estimated = json.loads(
        run_vtui("--demo", "estimate", QWEN, "--gpu-memory-utilization", "0.9", "--json").stdout
    )
    assert estimated["measured_on"] == time.strftime("%Y-%m-%d", time.gmtime())
    # vLLM's figures stand in for the closed forms (the simulator's 0.9 GiB activation
    # peak, where the closed form says more), and the KV cache follows from them.
    assert estimated["activation_gib"] == measured["activation_gib"]
    assert abs(estimated["kv_cache_gib_per_gpu"] - measured["kv_cache_gib"]) < 0.02
    other = json.loads(run_vtui("--demo", "estimate", QWEN, "-tp", "2", "--json").stdout)
    assert other["measured_on"] is None  # another layout is not this launch
    history = run_vtui("--demo", "estimate", "--history")
    row = next(line for line in history.stdout.splitlines() if QWEN in line)
    assert "probe" in row and f"{measured['kv_cache_tokens']:,}" in row and "%" in row


def test_a_corrupt_calibration_line_is_skipped_with_a_warning(tmp_path: Path) -> None:
    probed = run_vtui("--demo", "probe", "qwen2.5-7b", timeout=120)
    assert probed.returncode == 0, probed.stderr
    store = next(Path(os.environ["TMPDIR"]).glob("vtui-demo-*/seed-7-gpus-2/state"))
    with open(store / "calibration.jsonl", "a") as handle:
        handle.write('{"source": "probe", "at": "x", "measured": {"weights_gib": -5}}\n')
        handle.write("not json at all\n")
    done = run_vtui("--demo", "estimate", QWEN, "--gpu-memory-utilization", "0.9")
    assert done.returncode == 0
    assert done.stderr.count("skipped") == 2
    assert "measured on this machine" in done.stdout  # the good line still counts


def test_a_launch_vtui_follows_is_kept_for_the_next_estimate(tmp_path: Path) -> None:
    home, name = process_profile(tmp_path)
    up = run_vtui("up", name, config=home, timeout=120)
    try:
        assert up.returncode == 0, up.stderr
        kept = calibration_lines(home)
        assert [line["source"] for line in kept] == ["launch"]
        assert kept[0]["measured"]["activation_gib"] == 0.9  # type: ignore[index]
        assert kept[0]["estimated"] is not None  # vtui's estimate beside vLLM's figures
    finally:
        run_vtui("down", name, config=home, timeout=60)
