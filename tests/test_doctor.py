"""`vtui doctor` against this machine's real Docker engine (reachable, stopped, missing,
permission denied), a loopback Hub (token, gated repo), the simulated GPUs, and the
decisions themselves for the facts a machine can present."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SIM_IMAGE
from tests.support.helpers import REPO
from tests.support.hub_server import GATED, hub_server
from vtui.backends.engine.docker_engine import DockerEngine
from vtui.core.doctor import (
    DiskFacts,
    EngineFacts,
    GpuFacts,
    GpuRun,
    HubFacts,
    MachineFacts,
    Status,
    by_key,
    diagnose,
    report_lines,
)
from vtui.core.doctor_fixes import Distro, parse_os_release
from vtui.core.vllm_release import DEFAULT_IMAGE

DEBIAN = Distro("debian", (), "Debian GNU/Linux 12 (bookworm)")
FEDORA = Distro("fedora", (), "Fedora Linux 41")


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vtui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def checks(out: subprocess.CompletedProcess[str]) -> dict[str, dict[str, str]]:
    return {c["key"]: c for c in json.loads(out.stdout)["checks"]}


def healthy(**changes: object) -> MachineFacts:
    facts = MachineFacts(
        distro=DEBIAN,
        engine=EngineFacts(
            "unix:///var/run/docker.sock",
            "28.2.2",
            runtimes=("nvidia", "runc"),
            data_root="/var/lib/docker",
            images=(DEFAULT_IMAGE,),
        ),
        gpu_run=GpuRun(DEFAULT_IMAGE, ok=True, output="nvidia-smi -L lists 1 GPU"),
        gpus=GpuFacts(count=1, driver="580.95.05", total_bytes=80 << 30),
        disks=(DiskFacts("HF cache", "/root/.cache/huggingface/hub", 500 << 30),),
        hub=HubFacts("https://huggingface.co", True, token_present=True),
        port=8000,
        port_free=True,
        shm_bytes=32 << 30,
        pinned_image=DEFAULT_IMAGE,
    )
    return MachineFacts(**{**facts.__dict__, **changes})  # type: ignore[arg-type]


def test_a_ready_machine_passes_every_check_and_exits_0() -> None:
    report = diagnose(healthy())
    assert {f.status for f in report.findings} == {Status.PASS}
    assert report.exit_code == 0
    assert by_key(report.findings)["nvml"].reason == "driver 580.95.05, 1 GPU, 80.0 GiB in all"


@pytest.mark.parametrize(
    ("kind", "words", "fix"),
    [
        ("missing", "no Docker engine socket", "sudo apt install docker.io"),
        ("refused", "the Docker daemon is not running", "sudo systemctl start docker"),
        ("permission", "this user may not use Docker", "usermod -aG docker"),
    ],
)
def test_an_engine_out_of_reach_fails_with_its_reason_and_the_checks_needing_it_warn(
    kind: str, words: str, fix: str
) -> None:
    engine = EngineFacts("unix:///var/run/docker.sock", problem_kind=kind)
    found = by_key(diagnose(healthy(engine=engine)).findings)
    assert found["docker"].status is Status.FAIL
    assert words in found["docker"].reason and fix in found["docker"].fix
    for key in ("nvidia-runtime", "gpu-container", "image"):
        assert found[key].status is Status.WARN and "Docker is out of reach" in found[key].reason


def test_the_fix_is_in_this_distributions_commands() -> None:
    engine = EngineFacts("unix:///var/run/docker.sock", "28.2", runtimes=("runc",))
    debian = by_key(diagnose(healthy(engine=engine)).findings)["nvidia-runtime"]
    fedora = by_key(diagnose(healthy(engine=engine, distro=FEDORA)).findings)["nvidia-runtime"]
    assert debian.status is Status.FAIL and "runtimes: runc" in debian.reason
    assert "apt repository" in debian.fix and "dnf install nvidia-container-toolkit" in fedora.fix
    assert parse_os_release('ID=ubuntu\nID_LIKE="debian"\nPRETTY_NAME="Ubuntu 24.04"').family == (
        "debian"
    )
    assert parse_os_release("ID=rocky\nID_LIKE='rhel centos fedora'").family == "rhel"


def test_a_cdi_gpu_device_counts_as_the_nvidia_runtime() -> None:
    engine = EngineFacts("unix:///s", "28.2", runtimes=("runc",),
                         cdi_devices=("nvidia.com/gpu=0", "nvidia.com/gpu=all"))  # fmt: skip
    found = by_key(diagnose(healthy(engine=engine)).findings)["nvidia-runtime"]
    assert found.status is Status.PASS and "2 CDI devices named nvidia.com/gpu" in found.reason


def test_what_only_warns_leaves_the_exit_code_0_and_each_warning_says_what_to_do() -> None:
    report = diagnose(
        healthy(
            hub=HubFacts("https://huggingface.co", False, "cannot connect", token_present=False),
            port_free=False,
            shm_bytes=64 << 20,
            disks=(DiskFacts("HF cache", "/data", 10 << 30),),
            engine=EngineFacts("unix:///s", "28.2", runtimes=("nvidia",)),
        )
    )
    warned = [f for f in report.findings if f.status is Status.WARN]
    assert {f.key for f in warned} == {"hub", "hub-token", "port", "shm", "disk-hf-cache", "image"}
    assert all(f.fix for f in warned)
    assert report.exit_code == 0
    lines = report_lines(report, "Debian", width=80)
    assert all(len(line) <= 80 for line in lines if "https://" not in line)
    assert lines[-1] == "4 pass, 6 warn, 0 fail: this machine can serve a model"


def test_a_gated_repo_the_token_cannot_read_fails_and_says_how_to_get_access() -> None:
    hub = HubFacts("https://huggingface.co", True, token_present=True, gated_repo=GATED,
                   gated_problem=f"{GATED} is gated or private: accept its terms")  # fmt: skip
    found = by_key(diagnose(healthy(hub=hub)).findings)["hub-gated"]
    assert found.status is Status.FAIL and f"https://huggingface.co/{GATED}" in found.fix


# --- against the real parts ---------------------------------------------------------------


@pytest.fixture
def loopback_hub() -> Iterator[str]:
    with hub_server() as hub:
        hub.granted_token = "hf_granted_" + "x" * 20
        yield hub.url


def test_doctor_on_this_machines_real_engine_and_a_loopback_hub(
    docker_engine: DockerEngine, loopback_hub: str, tmp_path: Path
) -> None:
    import docker

    version = docker.from_env().version()["Version"]
    env = {"HF_ENDPOINT": loopback_hub, "HF_HOME": str(tmp_path / "hf"), "HF_TOKEN": ""}
    out = doctor("doctor", "--json", "--no-gpu-run", "--port", "1", env=env)
    found = checks(out)
    assert found["docker"]["status"] == "pass" and version in found["docker"]["reason"]
    # This machine's engine has no NVIDIA runtime and no driver: said, with the fix, exit 1.
    assert (
        found["nvidia-runtime"]["status"] == "fail" and "runc" in found["nvidia-runtime"]["reason"]
    )
    assert found["nvml"]["status"] == "fail" and found["nvml"]["fix"]
    assert found["hub"]["status"] == "pass" and loopback_hub in found["hub"]["reason"]
    assert found["hub-token"]["status"] == "warn"
    assert found["disk-docker-root"]["status"] in ("pass", "warn")
    assert out.returncode == 1 and json.loads(out.stdout)["ok"] is False


@pytest.mark.parametrize(("token", "status"), [("hf_granted_" + "x" * 20, "pass"),
                                               ("hf_other_" + "y" * 20, "fail")])  # fmt: skip
def test_the_token_is_checked_against_the_gated_repo_and_never_shown(
    loopback_hub: str, tmp_path: Path, token: str, status: str
) -> None:
    env = {"HF_ENDPOINT": loopback_hub, "HF_HOME": str(tmp_path / "hf"), "HF_TOKEN": token,
           "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}  # fmt: skip
    out = doctor("doctor", "--json", "--repo", GATED, env=env)
    found = checks(out)
    assert found["hub-token"]["status"] == "pass"
    assert found["hub-gated"]["status"] == status
    if status == "fail":
        assert "gated" in found["hub-gated"]["reason"]
    text = doctor("doctor", "--repo", GATED, env=env)
    assert token not in out.stdout + out.stderr + text.stdout + text.stderr


def test_a_stopped_engine_and_a_missing_one_are_told_apart(tmp_path: Path) -> None:
    stale = tmp_path / "docker.sock"  # what a stopped dockerd leaves: a socket, no listener
    with socket.socket(socket.AF_UNIX) as bound:
        bound.bind(str(stale))
        stopped = checks(doctor("doctor", "--json", env={"DOCKER_HOST": f"unix://{stale}"}))
    missing = checks(doctor("doctor", "--json", env={"DOCKER_HOST": f"unix://{tmp_path}/no"}))
    assert stopped["docker"]["status"] == "fail" and "not running" in stopped["docker"]["reason"]
    assert "systemctl start docker" in stopped["docker"]["fix"]
    assert (
        missing["docker"]["status"] == "fail"
        and "no Docker engine socket" in (missing["docker"]["reason"])
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as another user")
def test_a_user_outside_the_docker_group_is_told_to_join_it(docker_engine: DockerEngine) -> None:
    """Run for real as `nobody` against the engine's root:docker 0660 socket."""
    import tempfile

    # pytest's own folders are root's alone; nobody needs a home it may enter.
    home = Path(tempfile.mkdtemp(prefix="vtui-nobody-", dir="/tmp"))
    home.chmod(0o777)
    site = next((REPO / ".venv" / "lib").glob("python3*/site-packages"), None)
    system_python = Path("/usr/bin/python3")
    if site is None or not system_python.exists():
        pytest.skip("needs the project's .venv and the system python3")
    try:
        out = run_as_nobody(system_python, site, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert out.stdout, out.stderr
    found = checks(out)
    assert found["docker"]["status"] == "fail", out.stderr
    assert "permission denied" in found["docker"]["reason"]
    assert "usermod -aG docker" in found["docker"]["fix"]
    assert "Traceback" not in out.stderr


def run_as_nobody(system_python: Path, site: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         str(system_python), "-m", "vtui", "doctor", "--json", "--no-gpu-run"],
        capture_output=True, text=True, timeout=120, cwd=REPO, stdin=subprocess.DEVNULL,
        env={"PATH": os.environ["PATH"], "HOME": str(home), "TMPDIR": str(home),
             "PYTHONPATH": f"{REPO}:{site}", "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip


def test_a_gpu_container_on_an_engine_without_the_nvidia_runtime_fails_with_dockers_words(
    docker_engine: DockerEngine,
) -> None:
    import docker

    from vtui.backends.engine.docker_facts import gpu_run

    client = docker.from_env()
    run = gpu_run(client, SIM_IMAGE)
    assert not run.ok and "gpu" in run.output.lower()
    assert not client.containers.list(all=True, filters={"label": "io.vtui.doctor"})


@pytest.mark.parametrize("gpus", ["2", "8"])
def test_the_demo_doctor_reads_the_simulated_gpus_and_passes(gpus: str) -> None:
    out = doctor("--demo", "--demo-gpus", gpus, "doctor")
    assert out.returncode == 0, out.stdout
    assert f"{gpus} simulated GPUs" in out.stdout
    assert "FAIL" not in out.stdout and "Traceback" not in out.stderr


def test_a_hostile_os_release_reaches_the_report_as_text_and_bounded() -> None:
    hostile = 'ID=debian\nPRETTY_NAME="\x1b]0;pwned\x07Debian \x1b[2J' + "x" * 5000 + '"\n' * 2
    distro = parse_os_release(hostile + "JUNK LINE\n" * 10_000)
    assert distro.family == "debian"
    assert "\x1b" not in distro.pretty and "\x07" not in distro.pretty
    assert len(distro.pretty) < 400
    lines = report_lines(diagnose(healthy(distro=distro)), distro.pretty)
    assert not any("\x1b" in line for line in lines)
