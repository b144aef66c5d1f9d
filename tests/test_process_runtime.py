"""The process runtime: `vllm serve` as a plain process, launched, watched, restarted,
stopped and removed as a container is, and vLLM servers vtui did not start found on the
machine. The vLLM here is the simulator behind a `vllm` program, as a venv's would be: the
same code paths as a real vLLM, without a GPU."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.engine_helpers import following
from tests.support.helpers import free_port, run_vtui, sim_vllm_program
from vtui.backends.endpoint import EndpointError
from vtui.backends.endpoint.http import HttpEndpoint
from vtui.backends.engine.process import ProcessEngine
from vtui.core.errors import EngineRefused, NoSuchContainer
from vtui.core.launch_spec import LaunchSpec, run_request
from vtui.core.records import Deployment, RunRequest
from vtui.core.startup import Phase

QWEN = "Qwen/Qwen2.5-7B-Instruct"


@pytest.fixture
def vllm_program(tmp_path: Path) -> Path:
    return sim_vllm_program(tmp_path)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[ProcessEngine]:
    processes = ProcessEngine(tmp_path / "state")
    yield processes
    for d in processes.list_deployments():  # whatever a test left running goes
        if d.managed and d.live:
            processes.stop(d.container_id, timeout=2)


def spec(program: Path | str, port: int, *args: str, model: str = QWEN) -> LaunchSpec:
    return LaunchSpec(
        name=f"p{secrets.token_hex(3)}",
        model=model,
        gpus="none",
        port=port,
        runtime="process",
        vllm_program=str(program),
        extra_args=("--sim-startup-seconds", "1", *args),
    )


def request(program: Path | str, port: int, *args: str, model: str = QWEN) -> RunRequest:
    return run_request(spec(program, port, *args, model=model), secrets.token_urlsafe(16), {})


def test_a_process_goes_up_with_its_phases_serves_with_its_key_and_stops_cleanly(
    engine: ProcessEngine, vllm_program: Path
) -> None:
    port = free_port()
    asked = request(vllm_program, port)
    deployment = engine.run(asked)
    assert deployment.runtime == "process" and deployment.managed and deployment.live
    with following(engine, deployment) as follower:  # type: ignore[arg-type]
        ready = follower.wait_for("/v1/models", lambda u: u.models is not None, 30)
        assert ready.models == (QWEN,)
        assert {Phase.LOADING, Phase.PROFILING, Phase.READY} <= {u.phase for u in follower.updates}
        assert any(f.endswith(" KV tokens") for f in ready.figures)
        # The key came back from the process's own environment, and it is the one given.
        assert engine.api_key(deployment.container_id) == asked.environment["VLLM_API_KEY"]
        with pytest.raises(EndpointError) as refused:
            HttpEndpoint(f"http://127.0.0.1:{port}", "wrong").served_models()
        assert refused.value.fault.status == 401  # the server holds the key it was given
        follower.watch.stop_asked()
        began = time.monotonic()
        engine.stop(deployment.container_id, timeout=10)
        assert time.monotonic() - began < 5  # SIGTERM reached vLLM through the keeper
        stopped = follower.wait_for("stopped", lambda u: u.phase is Phase.STOPPED, 10)
    assert stopped.deployment is not None and stopped.deployment.exit_code == 0
    log = "\n".join(engine.logs(deployment.container_id, 0))
    assert "Application startup complete." in log and "Shutting down" in log
    # No secret in what vtui keeps of the process.
    for kept in (engine.records, engine.logs_dir):
        for path in kept.iterdir():
            assert asked.environment["VLLM_API_KEY"] not in path.read_text(errors="replace")
    engine.remove(deployment.container_id)
    assert deployment.container_id not in {d.container_id for d in engine.list_deployments()}
    with pytest.raises(NoSuchContainer):
        engine.inspect(deployment.container_id)


def test_a_crash_is_read_from_the_log_and_explained(
    engine: ProcessEngine, vllm_program: Path
) -> None:
    asked = request(
        vllm_program, free_port(), "--max-model-len", "1000000", model="meta-llama/Llama-3.1-8B"
    )
    deployment = engine.run(asked)
    with following(engine, deployment) as follower:  # type: ignore[arg-type]
        crashed = follower.wait_for("a crash", lambda u: u.phase is Phase.CRASHED, 30)
    assert crashed.progress == "crashed (exit 1)"
    assert crashed.explanation is not None and crashed.explanation.rule == "kv-cache-too-small"


def test_restart_keeps_the_id_the_key_and_the_log(
    engine: ProcessEngine, vllm_program: Path
) -> None:
    asked = request(vllm_program, free_port())
    deployment = engine.run(asked)
    until(lambda: "startup complete" in "\n".join(engine.logs(deployment.container_id, 0)))
    engine.restart(deployment.container_id, timeout=5)
    until(lambda: "\n".join(engine.logs(deployment.container_id, 0)).count("startup complete") == 2)
    assert engine.inspect(deployment.container_id).live
    assert engine.api_key(deployment.container_id) == asked.environment["VLLM_API_KEY"]
    log = "\n".join(engine.logs(deployment.container_id, 0))
    assert log.index("Shutting down") < log.rindex("Application startup complete.")


def until(test: Callable[[], bool], limit: float = 20) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if test():
            return
        time.sleep(0.1)
    raise AssertionError("never happened")


def test_refusals_say_why_and_leave_nothing_running(
    engine: ProcessEngine, vllm_program: Path, tmp_path: Path
) -> None:
    with pytest.raises(EngineRefused, match="no such program"):
        engine.run(request(tmp_path / "nowhere" / "vllm", free_port()))
    port = free_port()
    first = engine.run(request(vllm_program, port))
    until(lambda: "startup complete" in "\n".join(engine.logs(first.container_id, 0)))
    with pytest.raises(EngineRefused, match=f"port {port} on 127.0.0.1 is already taken"):
        engine.run(request(vllm_program, port))
    assert [d.container_id for d in engine.list_deployments() if d.managed] == [first.container_id]


def test_a_program_that_dies_before_a_word_is_an_exit_code_not_a_hang(
    engine: ProcessEngine, tmp_path: Path
) -> None:
    program = tmp_path / "vllm"
    program.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(3)\n")
    program.chmod(0o755)
    deployment = engine.run(request(program, free_port()))
    until(lambda: not engine.inspect(deployment.container_id).live)
    ended = engine.inspect(deployment.container_id)
    assert ended.exit_code == 3 and engine.logs(deployment.container_id, 0) == []


@contextlib.contextmanager
def found_bare(
    engine: ProcessEngine, program: Path, model: str
) -> Iterator[tuple[subprocess.Popen[bytes], Deployment]]:
    """`vllm serve MODEL` started as a user would, not by vtui, and what vtui found of it."""
    port = free_port()
    bare = subprocess.Popen(
        [str(program), "serve", model, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        until(lambda: any(d.port == port for d in engine.list_deployments()), 10)
        yield bare, next(d for d in engine.list_deployments() if d.port == port)
    finally:
        os.killpg(bare.pid, signal.SIGTERM)
        bare.wait(10)


def test_a_vllm_server_vtui_did_not_start_is_found_with_its_port_and_model(
    engine: ProcessEngine, vllm_program: Path
) -> None:
    with found_bare(engine, vllm_program, "Qwen/Qwen3-0.6B") as (bare, found):
        assert found.name == f"vllm-pid{bare.pid}" and not found.managed
        assert found.model == "Qwen/Qwen3-0.6B" and found.host == "127.0.0.1"
        assert engine.logs(found.container_id) == []  # its log is wherever its owner put it
        with pytest.raises(EngineRefused, match="vtui did not start"):
            engine.stop(found.container_id)


def test_vtui_up_ps_logs_and_down_drive_a_process_profile(
    tmp_path: Path, vllm_program: Path
) -> None:
    config, port = tmp_path / "config", free_port()
    made = run_vtui(
        "profile", "new", "pq", "--model", QWEN, "--runtime", "process", "--gpus", "none",
        "--vllm-program", str(vllm_program), "--port", str(port), config=config,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    try:
        up = run_vtui("up", "pq", config=config)
        assert up.returncode == 0, up.stderr
        assert "vtui-pq is up" in up.stdout and f"127.0.0.1:{port}/v1 serves {QWEN}" in up.stdout
        ps = run_vtui("ps", "--json", config=config)
        rows = [r for r in json.loads(ps.stdout) if r["name"] == "vtui-pq"]
        assert rows and rows[0]["runtime"] == "process" and rows[0]["state"] == "running"
        chat = run_vtui("chat", "--name", "pq", "--prompt", "hi", config=config)
        assert chat.returncode == 0 and "You asked" in chat.stdout, chat.stderr
        logs = run_vtui("logs", "pq", "--tail", "5", config=config)
        assert "POST /v1/chat/completions" in logs.stdout
    finally:
        down = run_vtui("down", "pq", config=config)
    assert down.returncode == 0 and "stopped and removed vtui-pq" in down.stdout
    missing = run_vtui(
        "profile", "new", "bad", "--model", QWEN, "--runtime", "process",
        "--vllm-program", str(tmp_path / "no-vllm"), config=config,
    )  # fmt: skip
    assert missing.returncode == 1
    assert "no such program here" in missing.stderr


@pytest.mark.attack("terminal-escapes")
def test_a_foreign_command_line_with_escapes_is_listed_harmless(
    engine: ProcessEngine, vllm_program: Path
) -> None:
    """Any local user's process is read from /proc: its model name is shown, not obeyed."""
    hostile = "Qwen/\x1b]52;c;SGk=\x07evil\x1b[2J"
    with found_bare(engine, vllm_program, hostile) as (_bare, found):
        shown = " ".join([found.model, found.image, *found.command])
        assert "\x1b" not in shown and "\x07" not in shown
        assert "evil" in found.model and "\u241b" in found.model  # shown as pictures
