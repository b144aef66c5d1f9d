"""The demo is one consistent, repeatable world: GPUs follow the server, same seed same figures."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.support.chat_helpers import ask, chat_events
from tests.support.helpers import ManualClock, demo
from vtui.core import labels
from vtui.core.chat_stream import AnswerDelta
from vtui.core.errors import EngineRefused
from vtui.core.model_search import SearchQuery
from vtui.core.records import ContainerState, RunRequest
from vtui.core.vllm_release import DEFAULT_IMAGE
from vtui.sim.catalogue import CATALOGUE


def launch(model: str, name: str, gpus: tuple[int, ...] = (1,)) -> RunRequest:
    return RunRequest(
        image=DEFAULT_IMAGE,
        name=name,
        host="127.0.0.1",
        host_port=8001,
        container_port=8000,
        command=("--model", "/app/model", "--served-model-name", model),
        labels=labels.vtui_labels(model, name),
        gpus=gpus,
    )


def test_same_seed_same_figures_other_seed_other_figures() -> None:
    a, b, c = demo(seed=7), demo(seed=7), demo(seed=8)
    readings_a = [a.gpu.snapshot() for _ in range(5)]
    assert readings_a == [b.gpu.snapshot() for _ in range(5)]
    assert readings_a != [c.gpu.snapshot() for _ in range(5)]
    assert len({s.gpus[0].utilization_pct for s in readings_a}) > 1  # it does move


def test_demo_starts_with_two_h100s_and_a_running_server() -> None:
    backends = demo()
    snap = backends.gpu.snapshot()
    assert [g.name for g in snap.gpus] == ["NVIDIA H100 80GB HBM3"] * 2
    (deployment,) = backends.engine.list_deployments()
    assert deployment.state == ContainerState.RUNNING
    assert deployment.host == "127.0.0.1"
    assert snap.gpus[0].memory_used_mib is not None and snap.gpus[0].memory_used_mib > 70_000
    assert backends.endpoint_for(deployment).health()
    assert backends.engine.logs(deployment.container_id)[-1].endswith(
        "Application startup complete."
    )


def test_gpu_memory_and_endpoint_follow_the_server_when_stopped() -> None:
    backends = demo()
    (deployment,) = backends.engine.list_deployments()
    backends.engine.stop(deployment.container_id)
    (stopped,) = backends.engine.list_deployments()
    assert stopped.state == ContainerState.EXITED and stopped.exit_code == 0
    gpu0 = backends.gpu.snapshot().gpus[0]
    assert gpu0.memory_used_mib is not None and gpu0.memory_used_mib < 100
    assert gpu0.processes == ()
    endpoint = backends.endpoint_for(stopped)
    assert not endpoint.health()


def test_a_new_container_replays_startup_over_time() -> None:
    clock = ManualClock()
    backends = demo(clock=clock)
    started = backends.engine.run(launch("Qwen/Qwen3-8B", "second"))
    assert started.state == ContainerState.STARTING
    first_lines = backends.engine.logs(started.container_id)
    clock.advance(5)
    middle = backends.engine.logs(started.container_id)
    assert len(first_lines) < len(middle)
    gpu1_mid = backends.gpu.snapshot().gpus[1].memory_used_mib
    clock.advance(60)
    after = {d.name: d for d in backends.engine.list_deployments()}["second"]
    assert after.state == ContainerState.RUNNING
    gpu1_end = backends.gpu.snapshot().gpus[1].memory_used_mib
    assert gpu1_mid is not None and gpu1_end is not None and gpu1_mid < gpu1_end
    assert any("Qwen3ForCausalLM" in line for line in backends.engine.logs(after.container_id))
    reply = chat_events(backends.endpoint_for(after), ask("hi", model="Qwen/Qwen3-8B"))
    assert any(isinstance(event, AnswerDelta) for event in reply)


def test_a_model_too_big_for_one_card_exits_with_vllms_error() -> None:
    clock = ManualClock()
    backends = demo(clock=clock)
    started = backends.engine.run(launch("meta-llama/Llama-3.3-70B-Instruct", "too-big"))
    clock.advance(60)
    failed = {d.name: d for d in backends.engine.list_deployments()}["too-big"]
    assert failed.state == ContainerState.EXITED and failed.exit_code == 1
    assert any("CUDA out of memory" in line for line in backends.engine.logs(started.container_id))


def test_catalogue_holds_a_dozen_distinct_real_models() -> None:
    ids = [m.repo_id for m in CATALOGUE]
    assert len(ids) >= 12 and len(set(ids)) == len(ids)
    assert all("/" in i for i in ids)
    assert demo().hub.search(SearchQuery("llama"))[0].repo_id == "meta-llama/Llama-3.1-8B-Instruct"


def test_a_taken_host_port_is_refused_in_the_docker_engines_words() -> None:
    backends = demo()
    request = launch("Qwen/Qwen3-8B", "second")
    taken = RunRequest(**{**request.__dict__, "host_port": 8000})
    with pytest.raises(
        EngineRefused,
        match='port 8000 is already published by the running container "vtui-qwen',
    ):
        backends.engine.run(taken)


@pytest.mark.attack("terminal-escapes")
def test_the_simulated_engine_hands_lines_on_as_the_real_one_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Log lines are made safe once, where an engine hands them on: the demo's engine holds
    them as Docker's does (controls shown, long lines cut), in every way a log is read."""
    from vtui.backends.engine.engine_set import EngineSet
    from vtui.backends.engine.simulated import SimulatedEngine
    from vtui.core.log_buffer import MAX_LINE_BYTES

    backends = demo(7, ManualClock())
    assert backends.hosts is not None and isinstance(backends.hosts.local, EngineSet)
    engine = backends.hosts.local.containers
    assert isinstance(engine, SimulatedEngine)
    (running,) = [d for d in engine.list_deployments() if d.live]
    hostile = [(1.0, "INFO \x1b]52;c;SG9zdGlsZQ==\x07 x"), (2.0, "INFO " + "X" * 100_000)]
    monkeypatch.setattr(engine.world, "log_entries", lambda _id: hostile)
    monkeypatch.setattr(
        engine.world, "deployment", lambda _id: replace(running, state=ContainerState.EXITED)
    )
    read = [
        [line.text for line in engine.log_lines(running.container_id)],
        engine.logs(running.container_id, tail=0),
        [line.text for line in engine.follow_logs(running.container_id)],
    ]
    for texts in read:
        assert texts[0] == "INFO \u241b]52;c;SG9zdGlsZQ==\u2407 x"
        assert len(texts[1]) < MAX_LINE_BYTES + 100 and "line cut by vtui" in texts[1]


def test_engine_failures_are_typed_and_carry_their_words_unquoted() -> None:
    """A caller catches EngineError and prints str(exc): no KeyError quotes to strip."""
    from vtui.core.errors import EngineError, NoSuchContainer

    backends = demo()
    with pytest.raises(NoSuchContainer) as gone:
        backends.engine.inspect("f" * 64)
    assert str(gone.value) == "no such container: ffffffffffff"
    running = backends.engine.list_deployments()[0]
    with pytest.raises(EngineRefused) as refused:
        backends.engine.remove(running.container_id)
    assert str(refused.value) == "the container is running: stop it before removing it"
    assert isinstance(refused.value, EngineError) and not isinstance(refused.value, ValueError)
